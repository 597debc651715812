// The address a published port's listener binds: one rule shared by the loader, the daemon's listeners, the service
// table and `cmesh port`, so what is shown is always what is bound.

import type { PortMapping } from './project.ts';

/** cmesh publishes on loopback unless told otherwise (Compose publishes on every interface). */
export const DEFAULT_BIND_ADDRESS = '127.0.0.1';

/** The port's own host_ip, else the service's `x-cmesh.bind`, else loopback. */
export function bindAddress(port: Pick<PortMapping, 'hostIp'>, mesh: { bind?: string | undefined }): string {
  return port.hostIp ?? mesh.bind ?? DEFAULT_BIND_ADDRESS;
}
