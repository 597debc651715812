// Byte sizes as Compose reads them (docker/go-units RAMInBytes): "512m", "1.5g", "64kb", plain bytes; 1k = 1024.

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };
const SIZE = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(?:b|ib)?$/i;

/** Bytes (rounded down to a whole byte), or undefined when the text is not a size. */
export function parseByteSize(text: string): number | undefined {
  const m = SIZE.exec(text.trim());
  if (!m) return undefined;
  const n = Math.floor(Number(m[1]) * (UNITS[(m[2] ?? '').toLowerCase()] ?? Number.NaN));
  return Number.isSafeInteger(n) ? n : undefined;
}
