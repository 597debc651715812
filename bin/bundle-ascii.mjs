// The daemon bundle as ASCII. V8 keeps a script's source for the process's life (functions compile lazily from it),
// one byte a character when every character is Latin-1, two when one is not: a single `→` in a comment made the
// daemon's ~2.9 MB bundle a ~5.8 MB string in its heap (bench/RESULTS.md, rss section). esbuild already escapes
// strings, plain templates and identifiers (its default `charset: 'ascii'`); it leaves comments, regular expression
// literals and tagged templates as written. Plain JS for the same reason as bundle-cache.mjs.

const NON_ASCII = /[^\x00-\x7f]/;

/**
 * `text` with every non-ASCII UTF-16 unit written as `\uXXXX`: the same program wherever esbuild left one (a comment,
 * a regular expression: `\uXXXX` matches that unit, and a surrogate pair stays one code point under the `u` flag),
 * except in a tagged template's raw text (String.raw would see the escape); none is in the daemon's graph
 * (cli/daemon-bundle.test.ts checks the bundle). A character right after a backslash (an identity escape such as
 * `\é`) cannot be rewritten so: then `text` is returned unchanged, the bundle only larger.
 */
export function asciiSource(text) {
  if (!NON_ASCII.test(text)) return text;
  if (/\\[^\x00-\x7f]/.test(text)) return text;
  return text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
