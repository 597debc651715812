// Prometheus metrics of the published UDP ports, read from the forwarders' counters at scrape time (a per-datagram
// prom-client increment would cost more than forwarding the datagram). Counts run from when the port was bound: a
// re-bind (a changed mapping) or `down` starts them again, which Prometheus reads as a counter reset.

import client from 'prom-client';
import type { UdpForwarderStats } from '../mesh/udp/forwarder.ts';

export interface UdpPortCounters {
  project: string;
  service: string;
  stats: UdpForwarderStats;
}

type Labels = { project: string; service: string };

/** Sums the ports of each service (a service may publish several UDP ports). */
function byService(ports: UdpPortCounters[]): { labels: Labels; stats: UdpForwarderStats }[] {
  const out = new Map<string, { labels: Labels; stats: UdpForwarderStats }>();
  for (const p of ports) {
    const key = `${p.project}\0${p.service}`;
    const have = out.get(key);
    if (!have) {
      out.set(key, { labels: { project: p.project, service: p.service }, stats: { ...p.stats } });
      continue;
    }
    for (const k of Object.keys(p.stats) as (keyof UdpForwarderStats)[]) have.stats[k] += p.stats[k];
  }
  return [...out.values()];
}

export function registerUdpMetrics(registers: client.Registry[], ports: () => UdpPortCounters[]): void {
  new client.Counter({
    name: 'cmesh_udp_datagrams_total',
    help: 'Datagrams through published UDP ports: direction="in" from clients to replicas, "out" from replicas to clients.',
    labelNames: ['project', 'service', 'direction'],
    registers,
    collect() {
      this.reset();
      for (const { labels, stats } of byService(ports())) {
        this.inc({ ...labels, direction: 'in' }, stats.datagramsIn);
        this.inc({ ...labels, direction: 'out' }, stats.datagramsOut);
      }
    },
  });
  new client.Counter({
    name: 'cmesh_udp_bytes_total',
    help: 'Payload bytes through published UDP ports, by direction like cmesh_udp_datagrams_total.',
    labelNames: ['project', 'service', 'direction'],
    registers,
    collect() {
      this.reset();
      for (const { labels, stats } of byService(ports())) {
        this.inc({ ...labels, direction: 'in' }, stats.bytesIn);
        this.inc({ ...labels, direction: 'out' }, stats.bytesOut);
      }
    },
  });
  new client.Counter({
    name: 'cmesh_udp_dropped_datagrams_total',
    help: 'Client datagrams dropped because no replica could take them.',
    labelNames: ['project', 'service'],
    registers,
    collect() {
      this.reset();
      for (const { labels, stats } of byService(ports())) this.inc(labels, stats.dropped);
    },
  });
  new client.Gauge({
    name: 'cmesh_udp_sessions',
    help: 'Open UDP sessions (one per client address), per service.',
    labelNames: ['project', 'service'],
    registers,
    collect() {
      this.reset();
      for (const { labels, stats } of byService(ports())) this.set(labels, stats.sessions);
    },
  });
  new client.Counter({
    name: 'cmesh_udp_sessions_total',
    help: 'UDP sessions opened (a new client address, or a session moved to another replica).',
    labelNames: ['project', 'service'],
    registers,
    collect() {
      this.reset();
      for (const { labels, stats } of byService(ports())) this.inc(labels, stats.sessionsTotal);
    },
  });
  new client.Counter({
    name: 'cmesh_udp_session_ends_total',
    help: 'UDP sessions ended: reason="expired" (idle timeout), "evicted" (session cap), "moved" (its replica left).',
    labelNames: ['project', 'service', 'reason'],
    registers,
    collect() {
      this.reset();
      for (const { labels, stats } of byService(ports())) {
        this.inc({ ...labels, reason: 'expired' }, stats.expired);
        this.inc({ ...labels, reason: 'evicted' }, stats.evicted);
        this.inc({ ...labels, reason: 'moved' }, stats.moved);
      }
    },
  });
}
