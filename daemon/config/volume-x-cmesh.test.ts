// A volume's x-cmesh.kubernetes (the Kubernetes export's claim): read, validated at file:line:col, rendered by
// `cmesh config`, and the published JSON Schema agreeing with the loader.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ACCESS_MODES, QUANTITY, STORAGE_CLASS } from '../api/kubernetes-claim.ts';
import { projectToComposeYaml } from './render-yaml.ts';
import { load, loadError, where } from './test-helpers.ts';

const withVolume = (x: string) => `services:\n  db:\n    image: x\n    volumes: [data:/data]\nvolumes:\n  data:\n    x-cmesh:\n${x}`;

test('size, access_modes and storage_class reach the VolumeSpec; a volume without them has none', () => {
  const p = load(withVolume('      kubernetes: { size: 20Gi, access_modes: [ReadWriteMany, ReadWriteMany], storage_class: fast-ssd }\n')).project;
  assert.deepEqual(p.volumes['data']?.kubernetes, { size: '20Gi', accessModes: ['ReadWriteMany'], storageClass: 'fast-ssd' });
  assert.equal(load('services:\n  db: {image: x}\nvolumes:\n  data: {}\n').project.volumes['data']?.kubernetes, undefined);
  assert.match(projectToComposeYaml(p), /x-cmesh:\n\s+kubernetes:\n\s+size: 20Gi\n\s+access_modes:\n\s+- ReadWriteMany\n\s+storage_class: fast-ssd/);
});

test('bad values are errors at their position; unknown keys warn', () => {
  const err = loadError(withVolume('      kubernetes:\n        size: lots\n        access_modes: [ReadWriteAll]\n        storage_class: Fast_SSD\n'));
  assert.equal(err.code, 'CMESH_E_CONFIG_INVALID');
  assert.deepEqual(where(err), [
    '9:15 volumes.data.x-cmesh.kubernetes.size',
    '10:24 volumes.data.x-cmesh.kubernetes.access_modes[0]',
    '11:24 volumes.data.x-cmesh.kubernetes.storage_class',
  ]);
  assert.match(err.issues[0]?.hint ?? '', /10Gi/);
  assert.deepEqual(where(loadError(withVolume('      kubernetes: { access_modes: [] }\n'))), ['8:35 volumes.data.x-cmesh.kubernetes.access_modes']);
  const r = load(withVolume('      kubernetes: { sizes: 1Gi }\n      other: 1\n'));
  assert.deepEqual(r.warnings.map((w) => `${w.position?.line}:${w.position?.col} ${w.path}: ${w.message}`), [
    '9:7 volumes.data.x-cmesh.other: unknown key "other" is ignored',
    '8:21 volumes.data.x-cmesh.kubernetes.sizes: unknown key "sizes" is ignored (did you mean "size"?)',
  ]);
});

test('the published JSON Schema agrees with the loader', () => {
  const schema = JSON.parse(readFileSync(new URL('../../schema/x-cmesh.schema.json', import.meta.url), 'utf8'));
  const k = schema.$defs.volume.properties.kubernetes;
  assert.deepEqual(Object.keys(k.properties), ['size', 'access_modes', 'storage_class']);
  assert.deepEqual(k.properties.access_modes.items.enum, [...ACCESS_MODES]);
  assert.equal(k.properties.size.pattern, QUANTITY.source);
  assert.equal(k.properties.storage_class.pattern, STORAGE_CLASS.source);
  assert.ok(schema.oneOf.some((o: { $ref: string }) => o.$ref === '#/$defs/volume'));
});
