// Splits the engine's JSON streams (events, build NDJSON) into objects, whatever the chunk boundaries are.

import { StringDecoder } from 'node:string_decoder';

/**
 * Incremental scanner for a stream of concatenated JSON objects: objects may be split across chunks, several may share
 * one chunk, and newlines between them are optional. It tracks brace depth outside strings, so it never re-scans old
 * bytes (linear in the stream size) and a multi-byte UTF-8 character split across chunks is decoded correctly.
 */
export class JsonObjectSplitter {
  readonly #decoder = new StringDecoder('utf8');
  #buf = '';
  #pos = 0;
  #start = -1;
  #depth = 0;
  #inString = false;
  #escape = false;
  /** Balanced slices that were not valid JSON (skipped, counted for diagnostics). */
  invalid = 0;

  push(chunk: Buffer | string): Record<string, unknown>[] {
    this.#buf += typeof chunk === 'string' ? chunk : this.#decoder.write(chunk);
    return this.#scan();
  }

  /** Flushes the decoder; an unterminated trailing object is dropped and counted as invalid. */
  end(): Record<string, unknown>[] {
    this.#buf += this.#decoder.end();
    const out = this.#scan();
    if (this.#start >= 0) this.invalid++;
    this.#buf = '';
    this.#pos = 0;
    this.#start = -1;
    this.#depth = 0;
    return out;
  }

  #scan(): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    const buf = this.#buf;
    for (let i = this.#pos; i < buf.length; i++) {
      const ch = buf.charCodeAt(i);
      if (this.#depth === 0) {
        // Between objects: skip whitespace and any stray bytes until an object opens.
        if (ch === 0x7b /* { */) {
          this.#start = i;
          this.#depth = 1;
        }
        continue;
      }
      if (this.#inString) {
        if (this.#escape) this.#escape = false;
        else if (ch === 0x5c /* \ */) this.#escape = true;
        else if (ch === 0x22 /* " */) this.#inString = false;
        continue;
      }
      if (ch === 0x22) this.#inString = true;
      else if (ch === 0x7b) this.#depth++;
      else if (ch === 0x7d /* } */) {
        this.#depth--;
        if (this.#depth === 0) {
          const parsed = tryParseObject(buf.slice(this.#start, i + 1));
          if (parsed) out.push(parsed);
          else this.invalid++;
          this.#start = -1;
        }
      }
    }
    // Keep only the unfinished object (if any) so the buffer never grows with consumed data.
    if (this.#start >= 0) {
      this.#buf = buf.slice(this.#start);
      this.#pos = this.#buf.length;
      this.#start = 0;
    } else {
      this.#buf = '';
      this.#pos = 0;
    }
    return out;
  }
}

function tryParseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
