// Ports on 127.0.0.1 that nothing listens on right now (TCP and UDP), for a compose file's published port in tests and
// benches, and the UDP probe tests use to see a forwarder hold or release its port.

import dgram from 'node:dgram';
import { once } from 'node:events';
import net from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** A UDP port free on loopback right now (the kernel's pick, released at once). */
export async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  const p = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

/** True when `port` can be bound for UDP on loopback right now. */
export async function udpPortFree(port: number): Promise<boolean> {
  const s = dgram.createSocket('udp4');
  s.on('error', () => undefined);
  try {
    s.bind(port, '127.0.0.1');
    await once(s, 'listening');
    return true;
  } catch {
    return false;
  } finally {
    s.close();
  }
}
