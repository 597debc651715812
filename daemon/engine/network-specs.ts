// cmesh's network, endpoint and volume specs → the engine's request bodies (pure, unit-tested). Fields that need a newer
// Engine API than the one connected are refused before any create (daemon/engine-compat.ts), so they are sent as is.

import type { EndpointSpec, NetworkCreateSpec, VolumeCreateSpec } from '../api/engine.ts';

/** The driver option through which Docker names the interface inside the container (Engine 28.1, API 1.49). */
export const IFNAME_OPT = 'com.docker.network.endpoint.ifname';

const defined = <T extends object>(o: T): Partial<T> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

export interface EndpointSettings {
  Aliases: string[];
  IPAMConfig?: { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] };
  MacAddress?: string;
  DriverOpts?: Record<string, string>;
  GwPriority?: number;
  Links?: string[];
}

export function endpointSettings(e: EndpointSpec): EndpointSettings {
  const ipam = defined({ IPv4Address: e.ipv4Address, IPv6Address: e.ipv6Address, LinkLocalIPs: e.linkLocalIps });
  const driverOpts = { ...e.driverOpts, ...(e.interfaceName === undefined ? {} : { [IFNAME_OPT]: e.interfaceName }) };
  return {
    Aliases: e.aliases,
    ...(Object.keys(ipam).length > 0 ? { IPAMConfig: ipam } : {}),
    ...defined({ MacAddress: e.macAddress, GwPriority: e.gwPriority, Links: e.links }),
    ...(Object.keys(driverOpts).length > 0 ? { DriverOpts: driverOpts } : {}),
  };
}

export interface NetworkCreateBody {
  Name: string;
  CheckDuplicate: boolean;
  Labels: Record<string, string>;
  Driver?: string;
  Internal?: boolean;
  Attachable?: boolean;
  EnableIPv6?: boolean;
  EnableIPv4?: boolean;
  Options?: Record<string, string>;
  IPAM?: { Driver: string; Config: { Subnet?: string; IPRange?: string; Gateway?: string; AuxiliaryAddresses?: Record<string, string> }[]; Options?: Record<string, string> };
}

export function networkCreateBody(spec: NetworkCreateSpec): NetworkCreateBody {
  return {
    Name: spec.name,
    // Without CheckDuplicate, API < 1.44 happily creates a second network with the same name.
    CheckDuplicate: true,
    Labels: spec.labels,
    ...(spec.driver ? { Driver: spec.driver } : {}),
    ...(spec.internal ? { Internal: true } : {}),
    ...defined({ Attachable: spec.attachable, EnableIPv6: spec.enableIpv6, EnableIPv4: spec.enableIpv4, Options: spec.driverOpts }),
    ...(spec.ipam
      ? {
          IPAM: {
            Driver: spec.ipam.driver ?? 'default',
            Config: spec.ipam.config.map((c) => defined({ Subnet: c.subnet, IPRange: c.ipRange, Gateway: c.gateway, AuxiliaryAddresses: c.auxAddresses })),
            ...defined({ Options: spec.ipam.options }),
          },
        }
      : {}),
  };
}

export function volumeCreateBody(spec: VolumeCreateSpec): { Name: string; Labels: Record<string, string>; Driver?: string; DriverOpts?: Record<string, string> } {
  return { Name: spec.name, Labels: spec.labels, ...(spec.driver ? { Driver: spec.driver } : {}), ...defined({ DriverOpts: spec.driverOpts }) };
}
