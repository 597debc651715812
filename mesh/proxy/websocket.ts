// HTTP Upgrade (WebSocket) through the proxy: the handshake is re-serialised to a picked replica over a raw socket,
// its answer relayed byte for byte, and after a 101 both sockets are joined until either side ends.

import type { Socket } from 'node:net';
import { type ProxyContext, countError } from './context.ts';
import { type ProxyError, writeRawError } from './error-responses.ts';
import { type ForwardingInfo, upstreamRequestHeaders } from './forwarded-headers.ts';
import { duplicateHost, parseTarget } from './request-target.ts';
import { type Connected, connectUpstream } from './upstream-connect.ts';
import { tunnel } from './tunnel.ts';

/** An upstream response head larger than this is refused (node's own limit for request heads is 16 KiB). */
const MAX_RESPONSE_HEAD = 64 * 1024;
/** Handshakes re-sent after a replica closed without answering (a dead container behind docker-proxy). */
const MAX_HANDSHAKE_TRIES = 3;

/** The parsed upgrade request: method, target as received, and the raw header list. */
export interface UpgradeRequest {
  method: string;
  url: string;
  rawHeaders: string[];
}

/** `from` is the client connection's own forwarding facts (address, trust, TLS identity), worked out once per connection. */
export function handleUpgrade(ctx: ProxyContext, req: UpgradeRequest, client: Socket, head: Buffer, from: ForwardingInfo): void {
  client.on('error', () => client.destroy());
  const fail = (e: ProxyError): void => {
    countError(ctx, e.status);
    writeRawError(client, e);
  };
  const target = parseTarget(req.url);
  if (typeof target === 'string' || duplicateHost(req.rawHeaders)) {
    fail({ status: 400, code: 'bad-request', message: typeof target === 'string' ? target : 'more than one Host header' });
    return;
  }
  const { clientIp } = from;
  const headers = upstreamRequestHeaders(req.rawHeaders, { ...from, upgrade: true, ...(target.host === undefined ? {} : { host: target.host }) });
  let requestHead = `${req.method} ${target.path} HTTP/1.1\r\n`;
  for (let i = 0; i < headers.length; i += 2) requestHead += `${headers[i]}: ${headers[i + 1]}\r\n`;
  const handshake = Buffer.concat([Buffer.from(`${requestHead}\r\n`, 'latin1'), head]);

  const key = ctx.hashKey?.(req.rawHeaders, clientIp);
  const tried = new Set<string>();
  let tries = 0;
  const attempt = (): void => {
    tries++;
    connectUpstream(
      {
        service: ctx.service,
        pool: ctx.pool,
        connectTimeoutMs: ctx.mesh.timeouts.connectMs,
        pick: key === undefined ? {} : { hashKey: key },
        tried,
        maxAttempts: Math.max(2, Math.min(8, ctx.pool.snapshot().total)),
        cancelled: () => client.destroyed,
      },
      (err, c) => {
        if (err !== undefined || c === undefined) {
          if (!client.destroyed) fail(err!);
          return;
        }
        if (client.destroyed) {
          c.socket.destroy();
          ctx.pool.onResult(c.upstream, c.connectMs, 'ok');
          return;
        }
        relayHandshake(ctx, client, c, handshake, (retryable) => {
          if (retryable && tries < MAX_HANDSHAKE_TRIES && !client.destroyed) attempt();
          else fail({ status: 502, code: 'upstream-reset', message: `replica ${c.upstream.id} of service "${ctx.service}" closed the connection during the upgrade handshake` });
        });
      },
    );
  };
  attempt();
}

/**
 * Sends the handshake and waits for the replica's response head (bounded by requestMs). A 101 joins the sockets; any
 * other status is relayed and the connection closed after it, so bytes the client sends next are never read as a
 * second request by a replica that refused the upgrade (the "WebSocket smuggling" trick).
 */
function relayHandshake(ctx: ProxyContext, client: Socket, c: Connected, handshake: Buffer, failed: (retryable: boolean) => void): void {
  const { socket: upstream, upstream: up } = c;
  const t0 = performance.now();
  const chunks: Buffer[] = [];
  let size = 0;
  let settled = false;
  const settle = (): void => {
    settled = true;
    clearTimeout(timer);
    upstream.off('data', onData);
    upstream.off('close', onEarlyClose);
    client.off('close', onClientGone);
  };
  const onClientGone = (): void => {
    if (settled) return;
    settle();
    upstream.destroy();
    ctx.pool.onResult(up, performance.now() - t0 + c.connectMs, 'ok');
  };
  const giveUp = (outcome: 'reset' | 'timeout', retryable: boolean): void => {
    if (settled) return;
    settle();
    upstream.destroy();
    ctx.pool.onResult(up, performance.now() - t0 + c.connectMs, outcome);
    if (outcome === 'timeout') {
      countError(ctx, 504);
      writeRawError(client, { status: 504, code: 'upstream-timeout', message: `replica ${up.id} of service "${ctx.service}" did not answer the upgrade within ${ctx.mesh.timeouts.requestMs}ms` });
    } else failed(retryable);
  };
  const onData = (chunk: Buffer): void => {
    chunks.push(chunk);
    size += chunk.length;
    const buf = chunks.length === 1 ? chunk : Buffer.concat(chunks, size);
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) {
      if (size > MAX_RESPONSE_HEAD) giveUp('reset', false);
      return;
    }
    settle();
    const status = Number(buf.subarray(9, 12).toString('latin1'));
    const latency = performance.now() - t0 + c.connectMs;
    upstream.on('error', () => upstream.destroy());
    client.write(buf);
    ctx.tunnels.add(client);
    if (status === 101) {
      tunnel(client, upstream, ctx.mesh.timeouts.idleMs, () => {
        ctx.tunnels.delete(client);
        ctx.pool.onResult(up, latency, 'ok');
      });
      return;
    }
    // Not upgraded: relay the rest of this one response, then close; the client's further bytes are never read.
    const length = /\r\ncontent-length:[ \t]*(\d+)/i.exec(buf.subarray(0, end).toString('latin1'));
    let left = length === null ? Number.POSITIVE_INFINITY : Number(length[1]) - (buf.length - end - 4);
    let finished = false;
    const done = (): void => {
      if (finished) return;
      finished = true;
      ctx.tunnels.delete(client);
      upstream.destroy();
      client.end();
      ctx.pool.onResult(up, latency, status >= 500 ? 'http-5xx' : 'ok');
    };
    if (left <= 0) {
      done();
      return;
    }
    upstream.on('data', (more: Buffer) => {
      const slice = more.length > left ? more.subarray(0, left) : more;
      left -= slice.length;
      if (!client.write(slice)) upstream.pause();
      if (left <= 0) done();
    });
    client.on('drain', () => upstream.resume());
    upstream.once('close', () => {
      // A declared length cut short must not look complete to the client.
      if (left > 0 && Number.isFinite(left)) client.destroy();
      done();
    });
    upstream.setTimeout(ctx.mesh.timeouts.idleMs, () => upstream.destroy());
  };
  // Closed before a full response head: the replica died or refused; nothing reached the client, so a new
  // handshake elsewhere is safe (the client waits for 101 before sending frames).
  const onEarlyClose = (): void => giveUp('reset', size === 0);
  const timer = setTimeout(() => giveUp('timeout', false), ctx.mesh.timeouts.requestMs);
  upstream.on('data', onData);
  upstream.on('close', onEarlyClose);
  upstream.on('error', () => undefined);
  client.once('close', onClientGone);
  upstream.write(handshake);
}
