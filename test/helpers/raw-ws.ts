// Just enough of RFC 6455 on a raw socket to send what browser-style WebSocket APIs hide (control and fragmented
// frames, a bare upgrade request), for tests against a real WebSocket server on loopback.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';

export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms}ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Sends a WebSocket handshake and returns the raw response head. */
export async function rawUpgrade(port: number, path: string): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  const [chunk] = (await withTimeout(once(socket, 'data'), 5000, 'upgrade answer')) as [Buffer];
  socket.destroy();
  return chunk.toString('latin1');
}

export interface Frame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
}

/** Just enough of an RFC 6455 client to send control and fragmented frames that browser-style APIs hide. */
export class RawWsClient {
  private buffer = Buffer.alloc(0);
  private waiters: (() => void)[] = [];

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  static async connect(port: number, path: string): Promise<RawWsClient> {
    const socket = net.connect(port, '127.0.0.1');
    await once(socket, 'connect');
    const key = randomBytes(16).toString('base64');
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    const client = new RawWsClient(socket);
    const head = await client.readUntil('\r\n\r\n');
    assert.match(head, /^HTTP\/1\.1 101 /);
    const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    assert.match(head, new RegExp(`sec-websocket-accept: ${accept.replace(/[+/]/g, '\\$&')}`, 'i'));
    return client;
  }

  private async waitForData(): Promise<void> {
    await withTimeout(new Promise<void>((resolve) => this.waiters.push(resolve)), 5000, 'websocket frame');
  }

  private async readUntil(marker: string): Promise<string> {
    for (;;) {
      const at = this.buffer.indexOf(marker);
      if (at >= 0) {
        const head = this.buffer.subarray(0, at).toString('latin1');
        this.buffer = this.buffer.subarray(at + marker.length);
        return head;
      }
      await this.waitForData();
    }
  }

  send(opcode: number, payload: Buffer, fin = true): void {
    const mask = randomBytes(4);
    const masked = Buffer.from(payload);
    for (let i = 0; i < masked.length; i++) masked[i]! ^= mask[i & 3]!;
    let header: Buffer;
    if (payload.length < 126) {
      header = Buffer.from([0, 0x80 | payload.length]);
    } else {
      header = Buffer.alloc(4);
      header[1] = 0x80 | 126;
      header.writeUInt16BE(payload.length, 2);
    }
    header[0] = (fin ? 0x80 : 0) | opcode;
    this.socket.write(Buffer.concat([header, mask, masked]));
  }

  /** Next server frame (server frames are never masked; tests only need lengths < 64 KiB). */
  async nextFrame(): Promise<Frame> {
    for (;;) {
      if (this.buffer.length >= 2) {
        const len7 = this.buffer[1]! & 0x7f;
        const offset = len7 === 126 ? 4 : 2;
        if (this.buffer.length >= offset) {
          const len = len7 === 126 ? this.buffer.readUInt16BE(2) : len7;
          if (this.buffer.length >= offset + len) {
            const frame = {
              fin: (this.buffer[0]! & 0x80) !== 0,
              opcode: this.buffer[0]! & 0x0f,
              payload: Buffer.from(this.buffer.subarray(offset, offset + len)),
            };
            this.buffer = this.buffer.subarray(offset + len);
            return frame;
          }
        }
      }
      await this.waitForData();
    }
  }

  destroy(): void {
    this.socket.destroy();
  }
}
