// ASCII case-insensitive comparison without making a lower-cased copy (header names and values on the hot path).

/** The lower-case ASCII code of `c` (other codes unchanged). */
export function toLower(c: number): number {
  return c >= 65 && c <= 90 ? c | 0x20 : c;
}

/** `name` equals the lower-case `lower` ignoring ASCII case (no lower-cased copy is made). */
export function equalsLower(name: string, lower: string): boolean {
  return name.length === lower.length && (name === lower || sameLower(name, lower));
}

/** `name` (same length as `lower`) equals the lower-case `lower` ignoring ASCII case. */
export function sameLower(name: string, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) if (toLower(name.charCodeAt(i)) !== lower.charCodeAt(i)) return false;
  return true;
}
