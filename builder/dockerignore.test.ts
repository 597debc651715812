// .dockerignore semantics, case by case against Docker's documentation (docs.docker.com "dockerignore" / the
// builder reference) and moby's patternmatcher behaviour that the docs describe.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDockerignore } from './dockerignore.ts';

/** [.dockerignore text, context-relative path, excluded?, why] */
const CASES: [string, string, boolean, string][] = [
  // The docs' example file.
  ['*/temp*', 'somedir/temporary.txt', true, 'docs: */temp* excludes names starting with temp one level down'],
  ['*/temp*', 'somedir/temp/file.txt', true, 'docs: the directory /somedir/temp and so its content'],
  ['*/temp*', 'temporary.txt', false, '* needs a directory level: root files are not matched'],
  ['*/temp*', 'a/b/temp.txt', false, '* never crosses /'],
  ['*/*/temp*', 'somedir/subdir/temporary.txt', true, 'docs: two levels below the root'],
  ['temp?', 'tempa', true, 'docs: ? is exactly one character'],
  ['temp?', 'tempab', false, '? is one character, not more'],
  ['temp?', 'sub/tempa', false, 'patterns are anchored at the context root'],
  // ** matches any number of directories, including none.
  ['**/*.go', 'main.go', true, 'docs: **/*.go includes the root'],
  ['**/*.go', 'a/b/c.go', true, 'docs: …and every directory'],
  ['**/*.go', 'a/b/c.gox', false, 'the extension is matched exactly'],
  ['a/**/b', 'a/b', true, '** may match zero directories'],
  ['a/**/b', 'a/x/y/b/file', true, '…or several, and the match covers the content of b'],
  ['**/temp', 'x/temp/deep/file', true, 'a ** pattern matching a parent directory excludes what is below'],
  // Exceptions: the last matching line wins.
  ['*.md\n!README.md', 'README.md', false, 'docs: README.md is re-included'],
  ['*.md\n!README.md', 'CHANGES.md', true, 'docs: other markdown files are excluded'],
  ['*.md\n!README.md', 'docs/guide.md', false, '*.md only matches in the root'],
  ['*.md\n!README*.md\nREADME-secret.md', 'README-secret.md', true, 'docs: the later line excludes it again'],
  ['*.md\n!README*.md\nREADME-secret.md', 'README-public.md', false, 'docs: other READMEs stay included'],
  ['*.md\nREADME-secret.md\n!README*.md', 'README-secret.md', false, 'docs: !README*.md comes last and wins'],
  ['*\n!src', 'src/index.ts', false, 'docs: exclude everything, then list what to include'],
  ['*\n!src', 'package.json', true, 'everything else stays excluded'],
  ['docs\n!docs/keep.txt', 'docs/keep.txt', false, 'a file can be re-included below an excluded directory'],
  ['docs\n!docs/keep.txt', 'docs/other.txt', true, 'its siblings stay excluded'],
  // Leading / and ./ , trailing /, whitespace: patterns are cleaned like filepath.Clean.
  ['/foo/bar', 'foo/bar', true, 'docs: /foo/bar and foo/bar are the same'],
  ['foo/bar', 'foo/bar/baz.txt', true, 'a directory pattern covers its content'],
  ['foo/bar', 'a/foo/bar', false, 'docs: neither excludes anything else'],
  ['./build', 'build/out.js', true, './ is cleaned away'],
  ['dist/', 'dist/app.js', true, 'a trailing / is cleaned away'],
  ['  spaced.txt  ', 'spaced.txt', true, 'lines are trimmed'],
  ['a.txt\r\nb.txt', 'b.txt', true, 'CRLF files work'],
  // Comments: only # in column 1.
  ['#secret', '#secret', false, 'docs: a # in column 1 is a comment'],
  [' #secret', '#secret', true, 'after leading whitespace # is part of a pattern'],
  ['\uFEFF*.log', 'x.log', true, 'a UTF-8 BOM is stripped from the first line'],
  // Plain names and character classes (Go filepath.Match).
  ['node_modules', 'node_modules/a/b.js', true, 'a name at the root excludes the whole tree'],
  ['node_modules', 'pkg/node_modules/x.js', false, 'but only at the root (unlike .gitignore)'],
  ['[a-c].txt', 'b.txt', true, 'character ranges'],
  ['[a-c].txt', 'd.txt', false, 'outside the range'],
  ['\\*.txt', '*.txt', true, 'backslash escapes a metacharacter'],
  ['\\*.txt', 'a.txt', false, '…so * is literal'],
  ['*', '.env', true, '* matches dotfiles (no special case, unlike shells)'],
  ['*.MD', 'readme.md', false, 'matching is case-sensitive on Linux'],
  ['', 'anything', false, 'an empty file excludes nothing'],
];

test(`.dockerignore: ${CASES.length} documented cases`, () => {
  const failures = CASES.filter(([text, path, expected]) => parseDockerignore(text).ignores(path) !== expected).map(
    ([text, path, expected, why]) => `${JSON.stringify(text)} on ${path}: expected ${expected ? 'excluded' : 'kept'} (${why})`,
  );
  assert.deepEqual(failures, []);
  assert.ok(CASES.length >= 25);
});

test('hasExceptions tells whether an excluded directory can be pruned', () => {
  assert.equal(parseDockerignore('a\nb').hasExceptions, false);
  assert.equal(parseDockerignore('a\n!a/b').hasExceptions, true);
  assert.equal(parseDockerignore('#!comment').hasExceptions, false);
});
