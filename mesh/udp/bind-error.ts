// Why a published UDP port could not be bound, as the same CmeshError codes a TCP listener's failure gets.

import { CmeshError } from '../../daemon/api/errors.ts';

export function bindError(service: string, where: { host: string; port: number }, err: NodeJS.ErrnoException): Error {
  const at = `${where.host.includes(':') ? `[${where.host}]` : where.host}:${where.port}/udp`;
  const details = { service, host: where.host, port: where.port, protocol: 'udp', errno: err.code };
  if (err.code === 'EADDRINUSE') {
    return new CmeshError('CMESH_E_PORT_TAKEN', `cannot publish service "${service}" on ${at}: the port is already in use`, {
      hint: `stop what holds it (\`ss -lunp 'sport = :${where.port}'\` shows the process) or change the published port in the compose file`,
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
