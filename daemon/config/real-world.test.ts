// Real-world-style compose files load with at most warnings, and the model matches what they say.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are compose interpolation syntax under test.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadProjectFromSources } from './load.ts';
import { fixture } from './test-helpers.ts';

function loadFixture(name: string, opts = {}) {
  return loadProjectFromSources([fixture(`real-world/${name}`)], opts);
}

test('postgres + redis: named volumes, healthchecks, $$ escape', () => {
  const { project, warnings } = loadFixture('postgres-redis.yaml');
  assert.equal(project.name, 'real-world');
  const pg = project.services['postgres']!;
  assert.equal(pg.environment['POSTGRES_USER'], 'app');
  assert.deepEqual(pg.healthcheck?.test, ['CMD-SHELL', 'pg_isready -U ${POSTGRES_USER:-app} -d app']);
  assert.equal(pg.healthcheck?.startPeriodMs, 30_000);
  assert.equal(pg.volumes[0]?.source, 'pgdata');
  assert.equal(pg.volumes[1]?.readOnly, true);
  assert.equal(pg.mesh.healthExplicit, false);
  assert.deepEqual(project.services['redis']?.command, ['redis-server', '--appendonly', 'yes', '--requirepass', 'redispass']);
  assert.equal(project.services['redis']?.ports[0]?.hostIp, '127.0.0.1');
  assert.equal(project.volumes['redisdata']?.driver, 'local');
  assert.equal(pg.options?.shmSizeBytes, 256 * 1024 ** 2);
  assert.deepEqual(warnings.map((w) => w.path), []);
});

test('web app: build args, long ports, service_healthy, watch, replicas', () => {
  const { project, warnings } = loadFixture('webapp-build.yaml', { env: { BUILD_SHA: 'abc123' } });
  assert.equal(project.name, 'webshop');
  const web = project.services['web']!;
  assert.deepEqual(web.build?.args, { NODE_VERSION: '20', BUILD_SHA: 'abc123' });
  assert.equal(web.build?.target, 'runtime');
  assert.deepEqual(web.ports.map((p) => [p.target, p.published, p.hostIp]), [[3000, 8080, '127.0.0.1'], [9229, 9229, '127.0.0.1']]);
  assert.equal(web.dependsOn['db']?.condition, 'service_healthy');
  assert.equal(web.dependsOn['db']?.restart, true);
  assert.equal(web.dependsOn['migrate']?.condition, 'service_completed_successfully');
  assert.equal(web.replicas, 3);
  assert.equal(web.stopGracePeriodMs, 30_000);
  assert.deepEqual([web.mesh.health.path, web.mesh.health.port], ['/healthz', 3000]);
  assert.equal(web.watch.length, 2);
  assert.equal(project.services['migrate']?.restart, 'no');
  assert.equal(web.options?.init, true);
  assert.ok(web.options?.resources !== undefined, 'deploy.resources is honoured');
  assert.deepEqual(warnings.map((w) => w.path), []);
});

test('wordpress + mysql: expose, list env with defaults, profiles', () => {
  const { project } = loadFixture('wordpress.yaml');
  assert.deepEqual(Object.keys(project.services), ['db', 'wordpress']);
  assert.deepEqual(project.services['db']?.expose, [3306, 33060]);
  assert.equal(project.services['db']?.environment['MYSQL_ROOT_PASSWORD'], 'somewordpress');
  assert.deepEqual(project.services['db']?.command, ['--default-authentication-plugin=mysql_native_password']);
  assert.equal(project.services['wordpress']?.ports[0]?.published, 80);
  assert.equal(loadFixture('wordpress.yaml', { profiles: ['admin'] }).project.services['phpmyadmin']?.ports[0]?.published, 8081);
});

test('monitoring stack: many services, networks and ignored keys as warnings', () => {
  const { project, warnings } = loadFixture('monitoring.yaml');
  assert.equal(Object.keys(project.services).length, 6);
  assert.deepEqual(project.services['grafana']?.networks, { 'monitor-net': { aliases: [] }, 'front-tier': { aliases: ['dashboards'] } });
  assert.equal(project.networks['default'], undefined);
  assert.equal(project.networks['front-tier']?.labels['com.example.tier'], 'front');
  assert.equal(project.services['nodeexporter']?.command?.[3], '--collector.filesystem.mount-points-exclude=^/(sys|proc|dev|host|etc)($|/)');
  assert.deepEqual([project.services['grafana']?.mesh.health.path, project.services['grafana']?.mesh.health.port], ['/api/health', 3000]);
  const paths = warnings.map((w) => w.path);
  assert.ok(paths.includes('version'));
  for (const p of ['services.prometheus.container_name', 'services.nodeexporter.pid', 'services.cadvisor.privileged', 'services.grafana.logging']) {
    assert.ok(!paths.includes(p), `${p} is honoured now, not a warning`);
  }
  assert.equal(project.services['prometheus']?.options?.containerName, 'prometheus');
  assert.equal(project.services['nodeexporter']?.options?.pid, 'host');
  assert.equal(project.services['cadvisor']?.options?.privileged, true);
  assert.ok(warnings.every((w) => w.position !== undefined));
});

test('anchors and merge keys', () => {
  const { project, warnings } = loadFixture('anchors.yaml');
  const api = project.services['api']!;
  assert.equal(api.restart, 'always');
  assert.deepEqual(api.environment, { TZ: 'UTC', LOG_LEVEL: 'info' });
  assert.deepEqual(api.networks, { backend: { aliases: [] } });
  assert.equal(api.healthcheck?.intervalMs, 10_000);
  assert.equal(api.mesh.lb, 'round-robin');
  assert.equal(api.mesh.retries, 1);
  assert.equal(api.mesh.timeouts.requestMs, 10_000);
  assert.deepEqual(api.mesh.health.path, '/health');
  assert.deepEqual(project.services['worker']?.environment, { TZ: 'UTC', LOG_LEVEL: 'debug', QUEUE: 'jobs' });
  assert.equal(project.services['scheduler']?.restartMaxRetries, 3);
  assert.equal((project.extensions['x-logging'] as { driver: string }).driver, 'json-file');
  assert.equal(api.options?.logging?.driver, 'json-file');
  assert.deepEqual(warnings.map((w) => w.path), []);
});
