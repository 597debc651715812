// Why a published port could not be bound (a TCP listener or a UDP forwarder): the same CmeshError codes and hints.

import { CmeshError } from '../daemon/api/errors.ts';

export function bindError(service: string, where: { host: string; port: number }, err: NodeJS.ErrnoException, protocol: 'tcp' | 'udp'): Error {
  // TCP is the default everywhere in messages; a UDP port says so.
  const at = `${where.host.includes(':') ? `[${where.host}]` : where.host}:${where.port}${protocol === 'udp' ? '/udp' : ''}`;
  const details = { service, host: where.host, port: where.port, ...(protocol === 'udp' ? { protocol } : {}), errno: err.code };
  if (err.code === 'EADDRINUSE') {
    return new CmeshError('CMESH_E_PORT_TAKEN', `cannot publish service "${service}" on ${at}: the port is already in use`, {
      hint: `stop what holds it (\`ss -l${protocol === 'udp' ? 'u' : 't'}np 'sport = :${where.port}'\` shows the process) or change the published port in the compose file`,
      details,
      cause: err,
    });
  }
  if (err.code === 'EACCES') {
    return new CmeshError('CMESH_E_PORT_TAKEN', `cannot publish service "${service}" on ${at}: permission denied`, {
      hint: 'ports below 1024 need root or CAP_NET_BIND_SERVICE (or lower net.ipv4.ip_unprivileged_port_start); pick a port ≥ 1024',
      details,
      cause: err,
    });
  }
  if (err.code === 'EADDRNOTAVAIL') {
    return new CmeshError('CMESH_E_CONFIG', `cannot publish service "${service}" on ${at}: no such address on this machine`, {
      hint: 'x-cmesh.bind / the host IP of the port mapping must be an address of a local interface (e.g. 127.0.0.1)',
      details,
      cause: err,
    });
  }
  return new CmeshError('CMESH_E_PORT_TAKEN', `cannot publish service "${service}" on ${at}: ${err.message}`, { details, cause: err });
}
