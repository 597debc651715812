// Hard limits that keep hostile compose files from exhausting memory, stack or time.

export const LIMITS = {
  /** Refused before parsing; real compose files are a few KiB. */
  maxBytes: 4 * 1024 * 1024,
  /** Collection nesting; Compose files need ~6, and deep nesting would blow the YAML composer's stack. */
  maxDepth: 64,
  /** Per anchor: references × (1 + aliases nested in it), like yaml's own maxAliasCount. */
  maxAliasCount: 100,
  /** Nodes produced after alias expansion (backstop for billion-laughs shapes). */
  maxNodes: 200_000,
  /** Lexical tokens; checked while lexing so a huge flat file is refused before yaml spends seconds on it. */
  maxTokens: 400_000,
} as const;
