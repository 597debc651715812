// Issue 18's TLS acceptance on the real engine, through the real CLI and curl: HTTPS with the local CA (TLS 1.3,
// verification fails without the CA), mTLS with `cmesh cert issue` (identity header upstream and in the access log),
// and `cmesh cert renew` under a bounded load with 0 failed requests.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { connect } from 'node:tls';
import { promisify } from 'node:util';
import { Pool } from 'undici';
import { type CmeshCli, until } from '../helpers/cmesh-cli.ts';
import { newRunId, dockerTestFile } from '../helpers/docker.ts';
import { type EchoProject, echoProject, serviceLabels } from '../helpers/echo-project.ts';
import { freePort } from '../helpers/free-port.ts';

await dockerTestFile();

const exec = promisify(execFile);
const runId = newRunId('tls');
let p: EchoProject | undefined;
let cli: CmeshCli;
let securePort: number;
let caPath: string;

interface Curl {
  code: number;
  status: string;
  body: string;
  verbose: string;
}

/** curl with `args` to `url`; never throws (a refused handshake is an outcome here). */
async function curl(args: string[], url: string): Promise<Curl> {
  try {
    const r = await exec('curl', ['-sS', '-v', '--max-time', '10', '-w', '\n%{http_code}', ...args, url], { timeout: 15_000 });
    const at = r.stdout.lastIndexOf('\n');
    return { code: 0, status: r.stdout.slice(at + 1), body: r.stdout.slice(0, at), verbose: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, status: '', body: e.stdout ?? '', verbose: e.stderr ?? '' };
  }
}

before(async () => {
  securePort = await freePort();
  // `secure` is a second echo service that demands client certificates and logs each request.
  const secure = (image: string): string =>
    `  secure:\n    image: ${image}\n    ports: ["${securePort}:3000"]\n` +
    '    x-cmesh:\n      tls: { hosts: [secure.test], client_auth: require }\n      access_log: true\n' +
    serviceLabels(runId);
  p = await echoProject({ runId, replicas: 2, mesh: ['tls: true'], health: { interval: '250ms', rise: 1 } });
  cli = p.cli;
  await p.writeCompose({ extraServices: secure(p.image) });
  await cli.ok(['up', '-d', '--wait', '--timeout', '60']);
  caPath = (await cli.ok(['ca', 'path'])).stdout.trim();
});

after(async () => {
  await p?.teardown();
});

test('HTTPS with the local CA: 200 over TLS 1.3, x-forwarded-proto https; without the CA verification fails', { timeout: 60_000 }, async () => {
  assert.match(caPath, /\/ca\/cmesh-ca\.crt$/);
  const ok = await until('an HTTPS answer', 20_000, async () => {
    const r = await curl(['--cacert', caPath], `https://localhost:${p!.port}/headers`);
    return r.status === '200' ? r : undefined;
  }, 250);
  assert.match(ok.verbose, /SSL connection using TLSv1\.3/);
  // curl offers h2 first: the port now speaks HTTP/2 (test/e2e/h2.docker.test.ts covers it).
  assert.match(ok.verbose, /ALPN: server accepted h2/);
  const headers = JSON.parse(ok.body) as Record<string, string>;
  assert.equal(headers['x-forwarded-proto'], 'https');
  const untrusted = await curl([], `https://localhost:${p!.port}/`);
  assert.equal(untrusted.code, 60, `curl exit ${untrusted.code}: ${untrusted.verbose.slice(-300)}`);
  assert.match(untrusted.verbose, /certificate/i);
  // A client's own x-forwarded-client-cert never reaches the replica.
  const forged = await curl(['--cacert', caPath, '-H', 'x-forwarded-client-cert: Hash=00;Subject="CN=admin"'], `https://localhost:${p!.port}/headers`);
  assert.equal((JSON.parse(forged.body) as Record<string, string>)['x-forwarded-client-cert'], undefined);
});

test('mTLS: no client certificate is refused; a `cmesh cert issue` one gets 200 and the replica sees the identity', { timeout: 60_000 }, async () => {
  // HTTP/1.1: an h2 client writes its preface at once and may see EPIPE before it reads the alert (refused either way).
  const anon = await curl(['--http1.1', '--cacert', caPath, '--resolve', `secure.test:${securePort}:127.0.0.1`], `https://secure.test:${securePort}/`);
  assert.notEqual(anon.code, 0, 'a handshake without a client certificate must fail');
  assert.match(anon.verbose, /certificate required|alert/i);
  const issued = JSON.parse((await cli.ok(['cert', 'issue', 'alice', '--json'])).stdout) as { cert: string; key: string };
  assert.deepEqual(Object.keys(issued), ['cert', 'key']);
  const text = (await cli.ok(['cert', 'issue', 'bob'])).stdout;
  assert.match(text, new RegExp(`^cert: ${cli.home}/certs/bob\\.crt\\nkey: ${cli.home}/certs/bob\\.key\\n$`));
  const r = await curl(
    ['--cacert', caPath, '--cert', issued.cert, '--key', issued.key, '--resolve', `secure.test:${securePort}:127.0.0.1`],
    `https://secure.test:${securePort}/headers`,
  );
  assert.equal(r.status, '200', r.verbose.slice(-400));
  assert.match((JSON.parse(r.body) as Record<string, string>)['x-forwarded-client-cert'] ?? '', /^Hash=[0-9a-f]{64};Subject="CN=alice"$/);
  const log = join(cli.home, 'logs', `${p!.project}-secure.access.log`);
  const line = await until('the access log line', 10_000, async () => (await readFile(log, 'utf8').catch(() => '')).split('\n').find((l) => l.includes('/headers')));
  assert.equal((JSON.parse(line) as { clientCert?: string }).clientCert, 'CN=alice');
});

/** The serial of the certificate a fresh handshake to the web port gets. */
function servedSerial(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, servername: 'localhost', ca }, () => {
      resolve(s.getPeerX509Certificate()?.serialNumber ?? '');
      s.destroy();
    });
    s.once('error', reject);
  });
}

test('cmesh cert renew under load: new handshakes get the new certificate, 0 failed requests', { timeout: 90_000 }, async () => {
  const ca = await readFile(caPath, 'utf8');
  const before = await servedSerial(p!.port, ca);
  const pool = new Pool(`https://localhost:${p!.port}`, { connections: 8, pipelining: 1, connect: { ca, servername: 'localhost' } });
  const outcomes: (number | string)[] = [];
  const t0 = performance.now();
  let stop = false;
  // 8 workers, bounded in count (4 000) and time (20 s); every 4th request closes its connection, so handshakes keep
  // happening across the renewals.
  const worker = async (w: number): Promise<void> => {
    for (let i = 0; !stop && outcomes.length < 4000 && performance.now() - t0 < 20_000; i++) {
      try {
        const r = await pool.request({ path: '/', method: 'GET', reset: (i + w) % 4 === 0, headersTimeout: 10_000, bodyTimeout: 10_000 });
        await r.body.text();
        outcomes.push(r.statusCode);
      } catch (err) {
        outcomes.push((err as { code?: string }).code ?? String(err));
      }
    }
  };
  const load = Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)));
  try {
    await until('load under way', 10_000, async () => (outcomes.length >= 200 ? true : undefined));
    assert.match((await cli.ok(['cert', 'renew'])).stdout, /^renewed [1-9]\d* server certificates?\n$/);
    await until('load after the first renewal', 10_000, async () => (outcomes.length >= 800 ? true : undefined));
    await cli.ok(['cert', 'renew']);
    await until('load after the second renewal', 10_000, async () => (outcomes.length >= 1400 ? true : undefined));
  } finally {
    stop = true;
    await load;
    await pool.destroy();
  }
  const failed = outcomes.filter((o) => o !== 200);
  assert.ok(outcomes.length >= 1400, `only ${outcomes.length} requests`);
  assert.deepEqual(failed.slice(0, 5), [], `${failed.length} of ${outcomes.length} requests failed`);
  assert.notEqual(await servedSerial(p!.port, ca), before, 'new handshakes get the renewed certificate');
});
