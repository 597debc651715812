// Health → probes. Readiness gates traffic (what cmesh's mesh probe does), liveness restarts containers (what the
// compose healthcheck is for), and a startupProbe covers `start_period`, during which failures do not count.

import type { IProbe } from 'kubernetes-models/v1';
import type { HealthcheckSpec, ServiceSpec } from '../../api/project.ts';
import type { Findings } from './findings.ts';
import { seconds } from './names.ts';

// Compose's healthcheck defaults (interval 30s, timeout 30s, retries 3, start_interval 5s).
const HC_DEFAULTS = { intervalMs: 30_000, timeoutMs: 30_000, retries: 3, startIntervalMs: 5000 };

export interface Probes {
  readinessProbe?: IProbe;
  livenessProbe?: IProbe;
  startupProbe?: IProbe;
}

/** CMD → exec of the argv; CMD-SHELL → `/bin/sh -c`, as the Docker Engine runs it. */
function execOf(hc: HealthcheckSpec): IProbe['exec'] | undefined {
  const [kind, ...rest] = hc.test;
  if (kind === 'CMD' && rest.length > 0) return { command: rest };
  if (kind === 'CMD-SHELL' && rest.length > 0) return { command: ['/bin/sh', '-c', rest.join(' ')] };
  return undefined;
}

function healthcheckProbe(hc: HealthcheckSpec): IProbe | undefined {
  if (hc.disable) return undefined;
  const exec = execOf(hc);
  if (exec === undefined) return undefined;
  return {
    exec,
    periodSeconds: seconds(hc.intervalMs ?? HC_DEFAULTS.intervalMs),
    timeoutSeconds: seconds(hc.timeoutMs ?? HC_DEFAULTS.timeoutMs),
    failureThreshold: hc.retries ?? HC_DEFAULTS.retries,
  };
}

/** x-cmesh.health: httpGet with a path, tcpSocket without; port defaults to the first container port. */
function meshProbe(service: ServiceSpec, findings: Findings): IProbe | undefined {
  if (!service.mesh.healthExplicit) return undefined;
  const h = service.mesh.health;
  const port = h.port ?? service.ports[0]?.target ?? service.expose[0] ?? service.mesh.ports?.[0];
  if (port === undefined) {
    findings.warn(service, 'x-cmesh.health', 'the health probe has no port (no `port:` and no container port): no readiness probe from it');
    return undefined;
  }
  const handler: IProbe = h.path !== undefined ? { httpGet: { path: h.path, port } } : { tcpSocket: { port } };
  return { ...handler, periodSeconds: seconds(h.intervalMs), timeoutSeconds: seconds(h.timeoutMs), successThreshold: h.rise, failureThreshold: h.fall };
}

export function probesFor(service: ServiceSpec, findings: Findings): Probes {
  const hc = service.healthcheck;
  const fromHealthcheck = hc === undefined ? undefined : healthcheckProbe(hc);
  if (hc !== undefined && !hc.disable && fromHealthcheck === undefined) {
    findings.warn(service, 'healthcheck.test', `healthcheck test ${JSON.stringify(hc.test[0] ?? '')} cannot be an exec probe (expected CMD or CMD-SHELL)`);
  }
  const fromMesh = meshProbe(service, findings);
  const out: Probes = {};
  const readiness = fromMesh ?? fromHealthcheck;
  if (readiness !== undefined) out.readinessProbe = readiness;
  // Liveness must have successThreshold 1 (the API refuses anything else).
  const live = fromHealthcheck ?? (fromMesh === undefined ? undefined : { ...fromMesh, successThreshold: 1 });
  if (live !== undefined) out.livenessProbe = live;
  if (live !== undefined && hc?.startPeriodMs !== undefined && hc.startPeriodMs > 0) {
    // Probed every start_interval; allowed to fail for the whole start period, then `retries` more times as Docker does.
    const period = seconds(hc.startIntervalMs ?? HC_DEFAULTS.startIntervalMs);
    const { periodSeconds: _p, failureThreshold: _f, successThreshold: _s, ...handler } = live;
    out.startupProbe = { ...handler, periodSeconds: period, failureThreshold: Math.ceil(hc.startPeriodMs / 1000 / period) + (hc.retries ?? HC_DEFAULTS.retries) };
  }
  return out;
}
