// Warnings point at the compose key they are about: list items, nested keys, the later of two files, and the nearest
// ancestor when the key itself is not written (merge keys, x-cmesh defaults).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keyPosition, pointAtKeys } from './positions.ts';

const base = { file: '/p/compose.yaml', text: 'services:\n  web:\n    image: a\n    volumes:\n      - ./x:/x\n      - data:/d\n    x-cmesh:\n      lb: random\n' };
const override = { file: '/p/compose.override.yaml', text: 'services:\n  web:\n    volumes:\n      - ./y:/y\n' };

test('a list item and a nested key are found at their own line and column', () => {
  assert.deepEqual(keyPosition([base], 'services.web.volumes[1]'), { file: base.file, line: 6, col: 9 });
  assert.deepEqual(keyPosition([base], 'services.web.x-cmesh.lb'), { file: base.file, line: 8, col: 7 });
});

test('a later file wins on a tie; a deeper match in an earlier file wins over a shallower later one', () => {
  assert.deepEqual(keyPosition([base, override], 'services.web.volumes[0]'), { file: override.file, line: 4, col: 9 });
  assert.deepEqual(keyPosition([base, override], 'services.web.volumes[1]'), { file: base.file, line: 6, col: 9 });
});

test('a key the files do not spell out falls back to its nearest written ancestor, or to nothing at service level', () => {
  assert.deepEqual(keyPosition([base], 'services.web.x-cmesh.retries'), { file: base.file, line: 7, col: 5 });
  assert.equal(keyPosition([base], 'services.web.depends_on'), undefined);
  const kept = { message: 'm', path: 'services.web.depends_on', position: { file: base.file, line: 2, col: 3 } };
  assert.deepEqual(pointAtKeys([kept], [base]), [kept]);
});
