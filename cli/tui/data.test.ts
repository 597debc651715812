import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CmeshError } from '../../daemon/api/errors.ts';
import { type DashClient, DashStore, runEffect, startDataFlow } from './data.ts';
import { type Action, initialState, reduce } from './state.ts';
import { info, psRows, serviceRow } from './test-fixtures.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const web = serviceRow('web', 2);

/** A daemon that is down for the first `downFor` requests, then answers; streams end at once. */
function fakeClient(downFor: number, calls: string[] = []): DashClient {
  let n = 0;
  return {
    async request<T>(method: string, path: string, body?: unknown): Promise<T> {
      calls.push(`${method} ${path}${body ? ` ${JSON.stringify(body)}` : ''}`);
      if (n++ < downFor) throw new CmeshError('CMESH_E_DAEMON_UNAVAILABLE', 'the cmesh daemon is not reachable: ECONNREFUSED');
      if (path.startsWith('/v1/services')) return [web] as T;
      if (path.endsWith('/ps')) return psRows(web) as T;
      if (path === '/v1/info') return info as T;
      if (path.endsWith('/kill')) return (path.includes('/swarmy/') ? { killed: 'swarmy_web.1.t9', replacedBy: 'swarm' } : { killed: 'shop-web-1', replacedBy: 'supervisor' }) as T;
      throw new CmeshError('CMESH_E_SERVICE_NOT_FOUND', 'no service "x"', { hint: 'check the name' });
    },
    async *stream<T>(): AsyncGenerator<T> {
      await sleep(5);
      yield* [] as T[];
    },
    async operation(): Promise<unknown> {
      return {};
    },
  };
}

test('the store reduces every action but publishes at most once per frame', async () => {
  const store = new DashStore(initialState('shop'), 50);
  let renders = 0;
  store.subscribe(() => renders++);
  for (let i = 0; i < 200; i++) store.dispatch({ type: 'log', frame: { service: 'web', replica: 1, stream: 'stdout', text: `l${i}` } });
  assert.equal(store.state.logs.length, 200);
  await sleep(120);
  assert.equal(renders, 1);
  assert.equal(store.getSnapshot().logs.length, 200);
  store.close();
});

test('data flow: reconnecting while the daemon is down, then connected with a snapshot and daemon info', async () => {
  const store = new DashStore(initialState('shop'), 10);
  const seen = new Set<string>();
  store.subscribe(() => seen.add(store.getSnapshot().connection));
  const ac = new AbortController();
  const flow = startDataFlow({ client: fakeClient(3), project: 'shop', store, signal: ac.signal, pollMs: 20, backoff: { minMs: 10, maxMs: 40 } });
  const deadline = Date.now() + 3000;
  while (store.state.connection !== 'connected' && Date.now() < deadline) await sleep(10);
  assert.ok(seen.has('reconnecting'), 'the outage was visible');
  assert.equal(store.state.connection, 'connected');
  assert.equal(store.state.services[0]?.service, 'web');
  while (!store.state.info && Date.now() < deadline) await sleep(10);
  assert.equal(store.state.info?.pid, 4242);
  ac.abort();
  await flow;
  store.close();
});

test('effects go through the control API and report inline, errors with their hint', async () => {
  const calls: string[] = [];
  let state = initialState('shop');
  const dispatch = (...a: Action[]): void => {
    state = a.reduce(reduce, state);
  };
  await runEffect(fakeClient(0, calls), 'shop', undefined, { kind: 'kill', service: 'web', replica: 1 }, dispatch);
  assert.deepEqual(calls, ['POST /v1/projects/shop/kill {"service":"web","replica":1}']);
  assert.deepEqual(state.result, { ok: true, text: 'killed shop-web-1; the supervisor replaces it' });
  await runEffect(fakeClient(0, calls), 'swarmy', undefined, { kind: 'kill', service: 'web', replica: 1 }, dispatch);
  assert.deepEqual(state.result, { ok: true, text: 'killed swarmy_web.1.t9; Swarm replaces it' });
  await runEffect(fakeClient(0, calls), 'shop', undefined, { kind: 'restart', service: 'x' }, dispatch);
  assert.deepEqual(state.result, { ok: false, text: 'no service "x" (check the name)' });
  await runEffect(fakeClient(0, calls), 'shop', undefined, { kind: 'build', service: 'web' }, dispatch);
  assert.match(state.result?.text ?? '', /rebuild needs the compose file/);
});
