// Golden Kubernetes exports: the demo project, the real-world fixtures and fixtures/export/kubernetes/full, each with
// an --expose mode. Expected output lives in test/golden/kubernetes/<case>.yaml (the `---` stream) and
// <case>.warnings.txt (warnings and notes, paths relative to the repo). Every object is validated against the
// Kubernetes schemas. Regenerate after an intended change with UPDATE_GOLDEN=1 and review the diff.

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadProject } from '../../config/index.ts';
import { type ExportOptions, exportKubernetes } from './export.ts';
import { toYamlStream } from './write.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const GOLDEN = join(ROOT, 'test/golden/kubernetes');

const CASES: { name: string; file: string; expose?: ExportOptions['expose']; namespace?: string }[] = [
  { name: 'demo', file: 'fixtures/demo/compose.yaml' },
  { name: 'demo-loadbalancer', file: 'fixtures/demo/compose.yaml', expose: 'loadbalancer' },
  { name: 'full-nodeport', file: 'fixtures/export/kubernetes/full/compose.yaml', expose: 'nodeport', namespace: 'shop' },
  { name: 'webapp-build-ingress', file: 'fixtures/configs/real-world/webapp-build.yaml', expose: 'ingress' },
  { name: 'postgres-redis', file: 'fixtures/configs/real-world/postgres-redis.yaml' },
  { name: 'wordpress-loadbalancer', file: 'fixtures/configs/real-world/wordpress.yaml', expose: 'loadbalancer' },
  { name: 'monitoring', file: 'fixtures/configs/real-world/monitoring.yaml' },
  { name: 'anchors-nodeport', file: 'fixtures/configs/real-world/anchors.yaml', expose: 'nodeport' },
];

for (const c of CASES) {
  test(`golden kubernetes export: ${c.name}`, async () => {
    const file = join(ROOT, c.file);
    // A fixed, empty environment: interpolation defaults only, whoever runs the test.
    const loaded = await loadProject({ cwd: dirname(file), files: [file], env: { HOME: '/home/test' } });
    const result = exportKubernetes(loaded.project, {
      readFile: (f) => readFileSync(f),
      sources: loaded.project.files.map((f) => ({ file: f, text: readFileSync(f, 'utf8') })),
      ...(c.expose ? { expose: c.expose } : {}),
      ...(c.namespace ? { namespace: c.namespace } : {}),
    });
    assert.ok(result.objects.length > 0);
    for (const o of result.objects) assert.doesNotThrow(() => o.validate(), `${o.kind}/${o.metadata?.name}`);
    if (c.namespace) for (const o of result.objects) assert.equal(o.metadata?.namespace, c.namespace);

    const yaml = toYamlStream(result.objects);
    const report = [
      ...result.warnings.map((w) => `warning: ${w.position ? `${w.position.file.replace(ROOT, '')}:${w.position.line}:${w.position.col} ` : ''}${w.path}: ${w.message}`),
      ...result.notes.map((n) => `note: ${n}`),
    ].join('\n');
    const yamlFile = join(GOLDEN, `${c.name}.yaml`);
    const reportFile = join(GOLDEN, `${c.name}.warnings.txt`);
    if (process.env['UPDATE_GOLDEN'] === '1') {
      writeFileSync(yamlFile, yaml);
      writeFileSync(reportFile, `${report}\n`);
    }
    assert.equal(yaml, readFileSync(yamlFile, 'utf8'));
    assert.equal(`${report}\n`, readFileSync(reportFile, 'utf8'));
    // No absolute path of this checkout leaks into the manifests.
    assert.ok(!yaml.includes(ROOT), 'manifests mention the checkout path');
  });
}
