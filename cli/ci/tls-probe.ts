// The smoke probe of an `x-cmesh.tls` port: GET / over HTTPS. It checks that the port answers, not who it is, so the
// certificate is not verified (the CLI would need the CA; `curl --cacert "$(cmesh ca path)"` is the trust check).
// A port that requires client certificates cannot be asked anything without one: a completed handshake passes.

import { request } from 'node:https';
import { connect } from 'node:tls';

type Probe = { ok: boolean; detail: string };

export function httpsProbe(host: string, port: number, clientCertRequired: boolean, timeoutMs: number): Promise<Probe> {
  return clientCertRequired ? handshakeProbe(host, port, timeoutMs) : getProbe(host, port, timeoutMs);
}

function getProbe(host: string, port: number, timeoutMs: number): Promise<Probe> {
  return new Promise((resolve) => {
    const req = request({ host, port, path: '/', method: 'GET', rejectUnauthorized: false, servername: 'localhost', timeout: timeoutMs, agent: false }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      resolve({ ok: status > 0 && status < 500, detail: `GET / → ${status}` });
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: `timeout after ${timeoutMs} ms` })));
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ ok: false, detail: `GET / → ${err.code ?? err.message}` }));
    req.end();
  });
}

function handshakeProbe(host: string, port: number, timeoutMs: number): Promise<Probe> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, servername: 'localhost', rejectUnauthorized: false });
    const done = (p: Probe): void => {
      socket.destroy();
      resolve(p);
    };
    socket.setTimeout(timeoutMs, () => done({ ok: false, detail: `TLS handshake → timeout after ${timeoutMs} ms` }));
    socket.once('secureConnect', () => done({ ok: true, detail: 'TLS handshake → ok (client certificate required)' }));
    socket.once('error', (err: NodeJS.ErrnoException) => done({ ok: false, detail: `TLS handshake → ${err.code ?? err.message}` }));
  });
}
