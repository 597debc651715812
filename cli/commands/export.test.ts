// `cmesh export kubernetes` end to end in-process: real compose files in a temporary directory, output on stdout or in
// -o DIR, warnings with file:line:col on stderr, usage errors for a bad --namespace or --expose.

import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { ExitCode } from '../../daemon/api/errors.ts';
import { runCli } from '../program.ts';
import { captureContext } from '../test-helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'cmesh-export-k8s-'));
after(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(
  join(dir, 'compose.yaml'),
  'name: shop\nservices:\n  web:\n    image: app:1\n    ports: ["8080:80"]\n    depends_on: [db]\n    volumes: [./site:/srv]\n  db:\n    image: pg:16\n    volumes: [data:/var/lib/data]\nvolumes:\n  data:\n',
);

async function cli(...args: string[]) {
  const ctx = captureContext({ cwd: dir, env: { NO_COLOR: '1' } });
  const code = await runCli(args, ctx);
  return { code, out: ctx.out(), err: ctx.err() };
}

test('without -o: every object on stdout, documents separated by ---, no namespace', async () => {
  const r = await cli('export', 'kubernetes');
  assert.equal(r.code, ExitCode.ok, r.err);
  const docs = parseAllDocuments(r.out).map((d) => d.toJS());
  assert.deepEqual(
    docs.map((d) => `${d.kind}/${d.metadata.name}`),
    ['Deployment/db', 'Deployment/web', 'Service/web', 'PersistentVolumeClaim/data'],
  );
  assert.equal(r.out.split(/^---$/m).length - 1, docs.length);
  assert.ok(docs.every((d) => d.metadata.namespace === undefined));
  // Warnings point at the key in the compose file and name it; notes say what was left out.
  assert.match(r.err, /^warning: .*compose\.yaml:6:5 services\.web\.depends_on: kubernetes: depends_on \(db\)/m);
  assert.match(r.err, /^warning: .*compose\.yaml:7:15 services\.web\.volumes\[0\]: kubernetes: bind mount \.\/site:\/srv/m);
  assert.match(r.err, /^note: web: published ports \(8080→80\) stay cluster-internal/m);
});

test('-o DIR: one <kind>-<name>.yaml per object, the paths listed on stdout; --namespace on every object', async () => {
  const r = await cli('export', 'kubernetes', '-o', 'k8s', '--namespace', 'team-a', '--expose', 'loadbalancer');
  assert.equal(r.code, ExitCode.ok, r.err);
  const files = readdirSync(join(dir, 'k8s')).sort();
  assert.deepEqual(files, ['deployment-db.yaml', 'deployment-web.yaml', 'persistentvolumeclaim-data.yaml', 'service-web-public.yaml', 'service-web.yaml']);
  assert.deepEqual(r.out.trim().split('\n').sort(), files.map((f) => join('k8s', f)));
  for (const f of files) {
    const docs = parseAllDocuments(readFileSync(join(dir, 'k8s', f), 'utf8'));
    assert.equal(docs.length, 1, f);
    const obj = docs[0]?.toJS();
    assert.equal(`${obj.kind.toLowerCase()}-${obj.metadata.name}.yaml`, f);
    assert.equal(obj.metadata.namespace, 'team-a');
  }
  assert.equal(parseAllDocuments(readFileSync(join(dir, 'k8s', 'service-web-public.yaml'), 'utf8'))[0]?.toJS().spec.type, 'LoadBalancer');
  // A second export without --expose leaves the LoadBalancer file behind: it is named, since `kubectl apply -f` would use it.
  const again = await cli('export', 'kubernetes', '-o', 'k8s');
  assert.equal(again.code, ExitCode.ok, again.err);
  assert.match(again.err, /k8s also holds service-web-public\.yaml, not written by this export/);
});

test('a bad --namespace is CMESH_E_USAGE; a bad --expose is a usage error naming the choices', async () => {
  const ns = await cli('export', 'kubernetes', '--namespace', 'Team_A');
  assert.equal(ns.code, ExitCode.usage);
  assert.match(ns.err, /CMESH_E_USAGE.*--namespace "Team_A"/);
  const ex = await cli('export', 'kubernetes', '--expose', 'hostport');
  assert.equal(ex.code, ExitCode.usage);
  assert.match(ex.err, /loadbalancer, nodeport, ingress/);
});

test('a compose error is the loader error (exit code 3), nothing on stdout', async () => {
  const r = await cli('-f', 'missing.yaml', 'export', 'kubernetes');
  assert.equal(r.code, ExitCode.config);
  assert.equal(r.out, '');
  assert.match(r.err, /CMESH_E_CONFIG_NOT_FOUND/);
});
