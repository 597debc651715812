// Targeted checks of the mapping (beyond the goldens): schema validation can fail, env_file/envFrom precedence, probes,
// secrets and configs mounts, --expose modes, namespace, the stream and file layout, name collisions.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Deployment } from 'kubernetes-models/apps/v1';
import { parseAllDocuments } from 'yaml';
import type { ProjectSpec } from '../../api/project.ts';
import { loadProjectFromSources } from '../../config/index.ts';
import { type ExportOptions, exportKubernetes, type KubeObject } from './export.ts';
import { fileNameOf, toFiles, toYamlStream } from './write.ts';

const FILES: Record<string, string> = { '/proj/a.env': 'A=from-file\nB=kept\n', '/proj/pw.txt': 'hunter2\n' };
const readFile = (f: string): string => {
  const t = FILES[f];
  if (t === undefined) throw new Error(`ENOENT ${f}`);
  return t;
};

function project(text: string): ProjectSpec {
  return loadProjectFromSources([{ file: '/proj/compose.yaml', text }], { env: {}, readFile }).project;
}

function run(text: string, options: Partial<ExportOptions> = {}): KubeObject[] {
  const { objects } = exportKubernetes(project(text), { readFile, ...options });
  for (const o of objects) o.validate();
  return objects;
}

const find = (objects: KubeObject[], kind: string, name: string) => {
  const o = objects.find((x) => x.kind === kind && x.metadata?.name === name);
  assert.ok(o, `${kind}/${name} in ${objects.map(fileNameOf).join(', ')}`);
  // Plain data for deep property checks (the models' types make every nested field optional).
  return JSON.parse(JSON.stringify(o));
};

test('validation can fail: a Deployment without a selector, and one with a string replica count, are refused', () => {
  const container = { name: 'x', image: 'x' };
  const noSelector = new Deployment({ metadata: { name: 'x' }, spec: { template: { spec: { containers: [container] } } } as never });
  assert.throws(() => noSelector.validate(), /selector/);
  const [ok] = run('services:\n  web:\n    image: app\n');
  assert.ok(ok instanceof Deployment);
  assert.ok(ok.spec);
  ok.spec.replicas = 'three' as never;
  assert.throws(() => ok.validate(), /replicas/);
});

test('env_file becomes a ConfigMap in envFrom; env keeps only what environment: sets differently', () => {
  const objects = run('services:\n  web:\n    image: app\n    env_file: [a.env]\n    environment: {A: override, B: kept, C: own}\n');
  const c = find(objects, 'Deployment', 'web')['spec'].template.spec.containers[0];
  assert.deepEqual(c.envFrom, [{ configMapRef: { name: 'web-env-a-env' } }]);
  assert.deepEqual(c.env, [
    { name: 'A', value: 'override' },
    { name: 'C', value: 'own' },
  ]);
  assert.deepEqual(find(objects, 'ConfigMap', 'web-env-a-env')['data'], { A: 'from-file', B: 'kept' });
});

test('entrypoint → command, command → args; CMD-SHELL → sh -c exec probe; start_period → startupProbe', () => {
  const objects = run(`services:
  web:
    image: app
    entrypoint: [tini, --]
    command: [serve, --port, "80"]
    healthcheck: {test: "curl -f localhost/ || exit 1", interval: 4s, retries: 2, start_period: 20s, start_interval: 2s}
`);
  const c = find(objects, 'Deployment', 'web')['spec'].template.spec.containers[0];
  assert.deepEqual(c.command, ['tini', '--']);
  assert.deepEqual(c.args, ['serve', '--port', '80']);
  assert.deepEqual(c.livenessProbe.exec.command, ['/bin/sh', '-c', 'curl -f localhost/ || exit 1']);
  assert.equal(c.livenessProbe.periodSeconds, 4);
  assert.equal(c.livenessProbe.failureThreshold, 2);
  assert.deepEqual(c.readinessProbe, c.livenessProbe);
  // 20 s of start period probed every 2 s, then `retries` more failures.
  assert.equal(c.startupProbe.periodSeconds, 2);
  assert.equal(c.startupProbe.failureThreshold, 12);
});

/** Kubernetes' expansion of command/args/env (`$$` → `$`, `$(NAME)` → its value when defined), every name defined. */
function kubeExpand(text: string, vars: Record<string, string>): string {
  return text.replace(/\$(\$|\(([A-Za-z_][A-Za-z0-9_]*)\))/g, (all, next: string, name?: string) => (next === '$' ? '$' : (vars[name ?? ''] ?? all)));
}

test('$( and $$ in command, args and env reach the container unchanged (Kubernetes would expand them)', () => {
  const objects = run("services:\n  web:\n    image: app\n    command: [sh, -c, 'echo $$(date) $$$$ $$$$(HOME)']\n    environment: {P: '$$(HOME)x'}\n");
  const c = find(objects, 'Deployment', 'web')['spec'].template.spec.containers[0];
  // Compose already turned `$$` into `$`; after Kubernetes' expansion the container must see exactly that.
  const vars = { HOME: '/root', date: 'NOW' };
  assert.deepEqual(c.args.map((a: string) => kubeExpand(a, vars)), ['sh', '-c', 'echo $(date) $$ $$(HOME)']);
  assert.equal(kubeExpand(c.env[0].value, vars), '$(HOME)x');
  assert.equal(kubeExpand('$(HOME)', vars), '/root', 'the expansion model expands what is not escaped');
});

test('x-cmesh.health without a path is a tcpSocket readiness probe; rollout max_surge sets maxSurge', () => {
  const objects = run('services:\n  db:\n    image: pg\n    expose: [5432]\n    x-cmesh:\n      protocol: tcp\n      health: {port: 5432, rise: 3}\n      rollout: {max_surge: 2}\n');
  const d = find(objects, 'Deployment', 'db')['spec'];
  assert.deepEqual(d.template.spec.containers[0].readinessProbe.tcpSocket, { port: 5432 });
  assert.equal(d.template.spec.containers[0].readinessProbe.successThreshold, 3);
  assert.equal(d.template.spec.containers[0].livenessProbe.successThreshold, 1);
  assert.deepEqual(d.strategy.rollingUpdate, { maxSurge: 2, maxUnavailable: 0 });
});

test('a secret is a Secret mounted at its target with its mode; file content is base64', () => {
  const objects = run('services:\n  web:\n    image: app\n    secrets: [{source: pw, target: /etc/pw, mode: 0400}]\nsecrets:\n  pw: {file: ./pw.txt}\n');
  assert.deepEqual(find(objects, 'Secret', 'secret-pw')['data'], { pw: Buffer.from('hunter2\n').toString('base64') });
  const pod = find(objects, 'Deployment', 'web')['spec'].template.spec;
  assert.deepEqual(pod.containers[0].volumeMounts, [{ name: 'secret-0-pw', mountPath: '/etc/pw', subPath: 'pw', readOnly: true }]);
  assert.deepEqual(pod.volumes, [{ name: 'secret-0-pw', secret: { secretName: 'secret-pw', items: [{ key: 'pw', path: 'pw', mode: 0o400 }] } }]);
});

test('a config file that is not UTF-8 goes to binaryData; a secret keeps its bytes', () => {
  const bytes = Uint8Array.from([0xff, 0x00, 0xfe]);
  const p = project('services:\n  web:\n    image: app\n    configs: [blob]\n    secrets: [key]\nconfigs:\n  blob: {file: ./blob.bin}\nsecrets:\n  key: {file: ./blob.bin}\n');
  const { objects } = exportKubernetes(p, { readFile: () => bytes });
  assert.deepEqual(find(objects, 'ConfigMap', 'config-blob')['binaryData'], { blob: '/wD+' });
  assert.equal(find(objects, 'ConfigMap', 'config-blob')['data'], undefined);
  assert.deepEqual(find(objects, 'Secret', 'secret-key')['data'], { key: '/wD+' });
});

test('a missing secret file is a CMESH_E_CONFIG_READ error with a hint', () => {
  const p = project('services:\n  web:\n    image: app\n    secrets: [pw]\nsecrets:\n  pw: {file: ./gone.txt}\n');
  assert.throws(() => exportKubernetes(p, { readFile }), { code: 'CMESH_E_CONFIG_READ', message: /secret "pw"/ });
});

const PUBLISHED = 'services:\n  web:\n    image: app\n    ports: ["8080:80", "30500:81"]\n';

test('published ports: ClusterIP only by default, then LoadBalancer, NodePort (node port kept when in range) or Ingress', () => {
  assert.deepEqual(run(PUBLISHED).map(fileNameOf), ['deployment-web.yaml', 'service-web.yaml']);
  const lb = find(run(PUBLISHED, { expose: 'loadbalancer' }), 'Service', 'web-public')['spec'];
  assert.equal(lb.type, 'LoadBalancer');
  assert.deepEqual(lb.ports.map((p: { port: number; targetPort: number }) => [p.port, p.targetPort]), [[8080, 80], [30500, 81]]);
  const np = find(run(PUBLISHED, { expose: 'nodeport' }), 'Service', 'web-public')['spec'];
  assert.deepEqual(np.ports.map((p: { nodePort?: number }) => p.nodePort), [undefined, 30500]);
  const ing = find(run(PUBLISHED, { expose: 'ingress' }), 'Ingress', 'web')['spec'];
  assert.deepEqual(ing.rules[0].http.paths[0].backend.service, { name: 'web', port: { number: 80 } });
});

test('--namespace sets metadata.namespace on every object; none by default', () => {
  const text = `${PUBLISHED}    volumes: [data:/data]\nvolumes:\n  data:\n`;
  assert.ok(run(text, { namespace: 'team-a', expose: 'ingress' }).every((o) => o.metadata?.namespace === 'team-a'));
  assert.ok(run(text).every((o) => o.metadata?.namespace === undefined));
});

test('the stream is ---separated documents, one per object; -o names files <kind>-<name>.yaml', () => {
  const objects = run(`${PUBLISHED}    volumes: [data:/data]\nvolumes:\n  data:\n`, { expose: 'loadbalancer' });
  const stream = toYamlStream(objects);
  assert.ok(stream.startsWith('---\n'));
  const docs = parseAllDocuments(stream);
  assert.equal(docs.length, objects.length);
  assert.deepEqual(docs.map((d) => d.toJS().kind), objects.map((o) => o.kind));
  assert.deepEqual([...toFiles(objects).keys()], ['deployment-web.yaml', 'service-web.yaml', 'service-web-public.yaml', 'persistentvolumeclaim-data.yaml']);
});

test('compose names become DNS labels; two that collide are refused with CMESH_E_CONFIG_INVALID', () => {
  assert.deepEqual(run('services:\n  My_App.v2:\n    image: app\n').map(fileNameOf), ['deployment-my-app-v2.yaml']);
  const p = project('services:\n  web_1:\n    image: a\n  web-1:\n    image: b\n');
  assert.throws(() => exportKubernetes(p, { readFile }), { code: 'CMESH_E_CONFIG_INVALID', message: /Deployment\/web-1/ });
});

test('project-level x-cmesh.east_west (on by default in cmesh): no note, callers reach Services by name as in cmesh', () => {
  const p = project('services:\n  web:\n    image: app\nx-cmesh:\n  east_west: true\n');
  assert.equal(p.eastWest, true);
  assert.deepEqual(exportKubernetes(p, { readFile }).notes, []);
  assert.deepEqual(exportKubernetes(project('services:\n  web:\n    image: app\n'), { readFile }).notes, []);
});

test('post_start and pre_stop: one plain hook each becomes the container lifecycle exec handler', () => {
  const objects = run("services:\n  web:\n    image: app\n    post_start: [{ command: ['sh', '-c', 'touch /ready'] }]\n    pre_stop: [{ command: 'sleep 2' }]\n");
  const c = find(objects, 'Deployment', 'web')['spec'].template.spec.containers[0];
  assert.deepEqual(c.lifecycle, { postStart: { exec: { command: ['sh', '-c', 'touch /ready'] } }, preStop: { exec: { command: ['sleep', '2'] } } });
});

test('a volume’s x-cmesh.kubernetes sets its claim; what it leaves out takes the default and is warned, naming the key', () => {
  const text = (x: string) => `services:\n  db:\n    image: pg\n    volumes: [data:/data]\nvolumes:\n  data:${x}\n`;
  const set = exportKubernetes(project(text('\n    x-cmesh: { kubernetes: { size: 8Gi, access_modes: [ReadOnlyMany], storage_class: gold } }')), { readFile });
  assert.deepEqual(find(set.objects, 'PersistentVolumeClaim', 'data').spec, { accessModes: ['ReadOnlyMany'], storageClassName: 'gold', resources: { requests: { storage: '8Gi' } } });
  assert.deepEqual(set.warnings.filter((w) => w.path?.startsWith('volumes.')), []);
  const bare = exportKubernetes(project(text(' {}')), { readFile, sources: [{ file: '/proj/compose.yaml', text: text(' {}') }] });
  assert.deepEqual(find(bare.objects, 'PersistentVolumeClaim', 'data').spec, { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } });
  const [w] = bare.warnings.filter((x) => x.path === 'volumes.data');
  assert.match(w?.message ?? '', /sets no x-cmesh\.kubernetes\.size or x-cmesh\.kubernetes\.access_modes: .* default size 1Gi and access mode ReadWriteOnce/);
  assert.deepEqual([w?.position?.line, w?.position?.col], [6, 3]);
});
