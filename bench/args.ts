// Strict command lines for the bench scripts: a bench started with a flag it does not know (a typo, or `--help` read as
// nothing) would start real daemons and containers, so an unknown flag, a stray argument or a bad number exits 2
// before anything starts, and `--help` prints the usage and exits 0.

import { parseArgs } from 'node:util';

/** One flag: `number` must read as a finite number ≥ 0; a string with `choices` must be one of them. */
export type BenchOption = { type: 'boolean' } | { type: 'string'; choices?: readonly string[] } | { type: 'number' };

export type BenchValues<O extends Record<string, BenchOption>> = {
  [K in keyof O]?: O[K] extends { type: 'boolean' } ? boolean : O[K] extends { type: 'number' } ? number : string;
};

export interface BenchArgsExtra {
  /** How many plain arguments the script takes (default 0: any is an error). */
  positionals?: number;
  argv?: string[];
}

/** A command line the script cannot run with: the message and the usage on stderr, exit 2. */
export function usageError(message: string, usage: string): never {
  process.stderr.write(`${message}\n${usage}\n`);
  process.exit(2);
}

/**
 * Parses the script's flags (`--name value` or `--name=value`; names without the dashes) and returns their values,
 * absent ones undefined so each script keeps its own defaults. Exits the process on `--help` or a bad command line.
 */
export function benchArgs<O extends Record<string, BenchOption>>(
  usage: string,
  options: O,
  extra: BenchArgsExtra = {},
): BenchValues<O> & { positionals: string[] } {
  const want = extra.positionals ?? 0;
  const spec: Record<string, { type: 'boolean' | 'string' }> = { help: { type: 'boolean' } };
  for (const [name, o] of Object.entries(options)) spec[name] = { type: o.type === 'boolean' ? 'boolean' : 'string' };
  // `--v8-flags "--single-threaded-gc"`: a value option takes the next word even when it starts with a dash, as the
  // scripts always did (parseArgs alone would reject it as ambiguous).
  const argv = [...(extra.argv ?? process.argv.slice(2))];
  for (let i = 0; i < argv.length - 1; i++) {
    const name = argv[i]!.startsWith('--') ? argv[i]!.slice(2) : '';
    if (spec[name]?.type === 'string') argv.splice(i, 2, `${argv[i]}=${argv[i + 1]}`);
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options: spec, strict: true, allowPositionals: want > 0 });
  } catch (err) {
    usageError((err as Error).message, usage);
  }
  if (parsed.values.help === true) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  if (parsed.positionals.length !== want) usageError(`expected ${want} argument(s), got ${parsed.positionals.length}`, usage);
  const out: Record<string, unknown> = { positionals: parsed.positionals };
  for (const [name, o] of Object.entries(options)) {
    const raw = parsed.values[name];
    if (o.type === 'string' && o.choices !== undefined && raw !== undefined && !o.choices.includes(String(raw))) {
      usageError(`--${name} takes one of ${o.choices.join(', ')}, got '${String(raw)}'`, usage);
    }
    if (raw === undefined || o.type !== 'number') {
      out[name] = raw;
      continue;
    }
    const n = Number(raw);
    if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(n) || n < 0) usageError(`--${name} takes a number ≥ 0, got '${String(raw)}'`, usage);
    out[name] = n;
  }
  return out as BenchValues<O> & { positionals: string[] };
}

/**
 * A child mode the parent bench starts as `script MODE arg…` (e.g. `--serve PORT UPSTREAM…`): when argv starts with
 * one of `modes`, that mode and its plain arguments; else undefined and the script parses its flags with benchArgs.
 */
export function childMode<M extends string>(modes: readonly M[], argv = process.argv.slice(2)): { mode: M; args: string[] } | undefined {
  const mode = modes.find((m) => m === argv[0]);
  return mode === undefined ? undefined : { mode, args: argv.slice(1) };
}
