// The smoke probe of an `x-cmesh.tls` port: GET / over HTTPS. It checks that the port answers, not who it is, so an
// untrusted certificate does not fail it; the detail says so (`cmesh ca install`, or the CA in NODE_EXTRA_CA_CERTS,
// which the probe trusts as node would: cli/tls-client-trust.ts). `curl --cacert "$(cmesh ca path)"` is the full
// trust check. A port that requires client certificates cannot be asked anything without one: a completed handshake
// passes.

import { request } from 'node:https';
import { connect, type TLSSocket } from 'node:tls';
import type { Env } from '../output.ts';
import { clientTrust } from '../tls-client-trust.ts';

type Probe = { ok: boolean; detail: string };

export function httpsProbe(host: string, port: number, clientCertRequired: boolean, timeoutMs: number, env: Env = process.env): Promise<Probe> {
  return clientCertRequired ? handshakeProbe(host, port, timeoutMs, env) : getProbe(host, port, timeoutMs, env);
}

/** Nothing when this host trusts the port's certificate for `localhost`, else why not. */
const trustNote = (socket: TLSSocket): string => (socket.authorized ? '' : ` (certificate not trusted here: ${String(socket.authorizationError)})`);

function getProbe(host: string, port: number, timeoutMs: number, env: Env): Promise<Probe> {
  return new Promise((resolve) => {
    const options = { host, port, path: '/', method: 'GET', rejectUnauthorized: false, servername: 'localhost', timeout: timeoutMs, agent: false, ...clientTrust(env) };
    const req = request(options, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      resolve({ ok: status > 0 && status < 500, detail: `GET / → ${status}${trustNote(res.socket as TLSSocket)}` });
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: `timeout after ${timeoutMs} ms` })));
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ ok: false, detail: `GET / → ${err.code ?? err.message}` }));
    req.end();
  });
}

function handshakeProbe(host: string, port: number, timeoutMs: number, env: Env): Promise<Probe> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, servername: 'localhost', rejectUnauthorized: false, ...clientTrust(env) });
    const done = (p: Probe): void => {
      socket.destroy();
      resolve(p);
    };
    socket.setTimeout(timeoutMs, () => done({ ok: false, detail: `TLS handshake → timeout after ${timeoutMs} ms` }));
    socket.once('secureConnect', () => done({ ok: true, detail: `TLS handshake → ok (client certificate required)${trustNote(socket)}` }));
    socket.once('error', (err: NodeJS.ErrnoException) => done({ ok: false, detail: `TLS handshake → ${err.code ?? err.message}` }));
  });
}
