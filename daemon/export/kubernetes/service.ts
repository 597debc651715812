// Services of a compose service: a ClusterIP Service with every container port other pods may call (what compose's
// project network gives), and for published ports what `--expose` asks: a LoadBalancer or NodePort Service, or an
// Ingress for HTTP ports. Without --expose published ports stay cluster-internal, and a note says so.

import { Ingress } from 'kubernetes-models/networking.k8s.io/v1';
import { Service } from 'kubernetes-models/v1';
import type { IServicePort } from 'kubernetes-models/v1';
import type { PortMapping, ProjectSpec, ServiceSpec } from '../../api/project.ts';
import type { Findings } from './findings.ts';
import { kubeName, selectorLabels } from './names.ts';

export type ExposeMode = 'loadbalancer' | 'nodeport' | 'ingress';
export const EXPOSE_MODES: readonly ExposeMode[] = ['loadbalancer', 'nodeport', 'ingress'];

type Proto = 'TCP' | 'UDP';
const proto = (p: 'tcp' | 'udp'): Proto => (p === 'udp' ? 'UDP' : 'TCP');
const portName = (port: number, p: Proto) => `${p.toLowerCase()}-${port}`;

/** Every container port the service listens on, deduplicated, in compose order: ports, expose, x-cmesh.ports. */
export function containerPorts(service: ServiceSpec): { port: number; protocol: Proto }[] {
  const seen = new Set<string>();
  const out: { port: number; protocol: Proto }[] = [];
  const add = (port: number, protocol: Proto) => {
    if (seen.has(`${port}/${protocol}`)) return;
    seen.add(`${port}/${protocol}`);
    out.push({ port, protocol });
  };
  for (const p of service.ports) add(p.target, proto(p.protocol));
  for (const p of service.expose) add(p, 'TCP');
  for (const p of service.mesh.ports ?? []) add(p, 'TCP');
  return out;
}

// The NodePort range of a default cluster; a published port outside it is left for the cluster to pick.
const NODE_PORTS = { min: 30_000, max: 32_767 };

function publicPort(service: ServiceSpec, p: PortMapping, mode: ExposeMode, findings: Findings): IServicePort | undefined {
  const published = p.published;
  if (published === undefined) return undefined;
  const base: IServicePort = { name: portName(published, proto(p.protocol)), port: published, targetPort: p.target, protocol: proto(p.protocol) };
  if (mode !== 'nodeport') return base;
  if (published >= NODE_PORTS.min && published <= NODE_PORTS.max) return { ...base, nodePort: published };
  findings.notes.push(`${service.name}: port ${published} is outside the NodePort range ${NODE_PORTS.min}-${NODE_PORTS.max}; the cluster picks the node port`);
  return base;
}

export function servicesFor(project: ProjectSpec, service: ServiceSpec, expose: ExposeMode | undefined, findings: Findings): (Service | Ingress)[] {
  const labels = selectorLabels(project, service);
  const name = kubeName(service.name);
  const out: (Service | Ingress)[] = [];
  const internal = containerPorts(service);
  if (internal.length > 0) {
    out.push(
      new Service({
        metadata: { name, labels },
        spec: { type: 'ClusterIP', selector: labels, ports: internal.map(({ port, protocol }) => ({ name: portName(port, protocol), port, targetPort: port, protocol })) },
      }),
    );
  }
  const published = service.ports.map((p, i) => ({ p, i })).filter(({ p }) => p.published !== undefined);
  if (published.length === 0) return out;
  if (expose === undefined) {
    const list = published.map(({ p }) => `${p.published}→${p.target}`).join(', ');
    findings.notes.push(`${service.name}: published ports (${list}) stay cluster-internal; pass --expose loadbalancer|nodeport|ingress to publish them`);
    return out;
  }
  for (const { p, i } of published) {
    if (p.publishedEnd !== undefined && p.publishedEnd !== p.published) {
      findings.warn(service, `ports[${i}]`, `published range ${p.published}-${p.publishedEnd}: only ${p.published} is exported`);
    }
    // The loader fills in cmesh's own default, 127.0.0.1, so only another address was the user's choice.
    if (p.hostIp !== undefined && p.hostIp !== '127.0.0.1') findings.warn(service, `ports[${i}]`, `host_ip ${p.hostIp}: the address a published port listens on is chosen by the cluster`);
  }
  if (expose === 'ingress') {
    out.push(...ingressFor(project, service, published, findings));
    return out;
  }
  const ports = published.map(({ p }) => publicPort(service, p, expose, findings)).filter((p) => p !== undefined);
  out.push(
    new Service({
      metadata: { name: kubeName(`${service.name}-public`), labels },
      spec: { type: expose === 'loadbalancer' ? 'LoadBalancer' : 'NodePort', selector: labels, ports },
    }),
  );
  return out;
}

/** One Ingress per service with a rule for its HTTP published ports; TCP/UDP ports an Ingress cannot carry are warned. */
function ingressFor(project: ProjectSpec, service: ServiceSpec, published: { p: PortMapping; i: number }[], findings: Findings): Ingress[] {
  const http = published.filter(({ p, i }) => {
    const ok = p.protocol === 'tcp' && service.mesh.protocol === 'http';
    if (!ok) findings.warn(service, `ports[${i}]`, `port ${p.published} is not HTTP (x-cmesh.protocol ${service.mesh.protocol}, ${p.protocol}): an Ingress cannot carry it; use --expose loadbalancer`);
    return ok;
  });
  const first = http[0];
  if (first === undefined) return [];
  for (const { p, i } of http.slice(1)) {
    findings.warn(service, `ports[${i}]`, `port ${p.published}: an Ingress without host names routes "/" to one port only (${first.p.published} here)`);
  }
  return [
    new Ingress({
      metadata: { name: kubeName(service.name), labels: selectorLabels(project, service) },
      spec: {
        rules: [{ http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: kubeName(service.name), port: { number: first.p.target } } } }] } }],
      },
    }),
  ];
}
