// Port mappings as `docker ps` / `docker compose ps` print them: consecutive ports of one host address and protocol
// collapse into one range (`127.0.0.1:8000-8002->3000-3002/tcp`), so a `"8000-8002:3000-3002"` service reads as
// written rather than as three unrelated rows or only its first port.

export interface PortMappingView {
  host: string;
  hostPort: number;
  containerPort: number;
  protocol: string;
}

/** A run of mappings whose host and container ports both step by one. */
export interface PortRange {
  host: string;
  protocol: string;
  hostStart: number;
  hostEnd: number;
  containerStart: number;
  containerEnd: number;
}

/** Collapses like Docker's DisplayablePorts: per (host, protocol), sorted by container port, first-seen group order. */
export function collapsePortRanges(mappings: readonly PortMappingView[]): PortRange[] {
  const groups = new Map<string, PortMappingView[]>();
  for (const m of mappings) {
    const key = `${m.host}\0${m.protocol}`;
    const group = groups.get(key) ?? [];
    group.push(m);
    groups.set(key, group);
  }
  const out: PortRange[] = [];
  for (const group of groups.values()) {
    const sorted = [...group].sort((a, b) => a.containerPort - b.containerPort || a.hostPort - b.hostPort);
    let run: PortRange | undefined;
    for (const m of sorted) {
      if (run && m.containerPort === run.containerEnd + 1 && m.hostPort === run.hostEnd + 1) {
        run.containerEnd = m.containerPort;
        run.hostEnd = m.hostPort;
        continue;
      }
      run = { host: m.host, protocol: m.protocol, hostStart: m.hostPort, hostEnd: m.hostPort, containerStart: m.containerPort, containerEnd: m.containerPort };
      out.push(run);
    }
  }
  return out;
}

const span = (start: number, end: number): string => (start === end ? `${start}` : `${start}-${end}`);

/** A range reached at the container's own address (nothing published): `172.18.0.3:3000-3002`. */
export function formatAddressRange(r: PortRange): string {
  const host = r.host.includes(':') ? `[${r.host}]` : r.host;
  return `${host}:${span(r.containerStart, r.containerEnd)}`;
}

/** `host:8000-8002->3000-3002` with IPv6 hosts bracketed; the caller adds the protocol suffix it prints. */
export function formatPortRange(r: PortRange): string {
  const host = r.host.includes(':') ? `[${r.host}]` : r.host;
  return `${host}:${span(r.hostStart, r.hostEnd)}->${span(r.containerStart, r.containerEnd)}`;
}
