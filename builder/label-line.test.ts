import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LABELLED_DOCKERFILE, labelLine, labelledBuildFiles } from './label-line.ts';

test('labelLine: one sorted, quoted line; undefined for values that would need escaping or expansion', () => {
  assert.equal(labelLine({ 'dev.cmesh.service': 'web', 'dev.cmesh.context-hash': 'sha256:ab12' }), 'LABEL "dev.cmesh.context-hash"="sha256:ab12" "dev.cmesh.service"="web"');
  assert.equal(labelLine({}), undefined);
  for (const bad of ['a b', 'x"y', 'c\\d', '$HOME', 'tab\t']) assert.equal(labelLine({ k: bad }), undefined, bad);
  assert.equal(labelLine({ 'bad key': 'v' }), undefined);
});

test('labelledBuildFiles: the Dockerfile copy ends with the line; .dockerignore names the copy', () => {
  const [df, ignore] = labelledBuildFiles(Buffer.from('FROM x\nCMD ["a"]'), undefined, 'LABEL "a"="1"');
  assert.equal(df!.name, LABELLED_DOCKERFILE);
  assert.equal(df!.content.toString(), 'FROM x\nCMD ["a"]\nLABEL "a"="1"\n');
  assert.equal(ignore!.content.toString(), `${LABELLED_DOCKERFILE}\n.dockerignore\n`);
  const [, kept] = labelledBuildFiles(Buffer.from('FROM x\n'), Buffer.from('node_modules'), 'LABEL "a"="1"');
  assert.equal(kept!.content.toString(), `node_modules\n${LABELLED_DOCKERFILE}\n`);
});
