// Golden cases of `network_mode: service:x` (and ipc/pid/uts): a dependent's joined namespace dies with x's container,
// so the dependent is recreated when x's first replica gets a new container, now or behind the plan's back.

import type { PlanCase } from './plan-case.ts';
import { ctr, desired, NOW, project, svc } from './testing.ts';

const sidecar = desired(
  project('side', [
    svc('vpn', { image: 'example/vpn:2' }),
    svc('app', { options: { networkMode: 'service:vpn' }, networks: {}, dependsOn: { vpn: { condition: 'service_started', restart: false, required: true } } }),
    svc('tool', { options: { pid: 'service:vpn' }, networks: {}, dependsOn: { vpn: { condition: 'service_started', restart: false, required: true } } }),
  ]),
);

export const namespaceCases: PlanCase[] = [
  {
    // vpn's spec changed: it is recreated, and both dependents follow in the next stage.
    name: 'namespace-joined-service-recreated',
    desired: sidecar,
    containers: [ctr(sidecar, 'vpn', 1, { stale: true }), ctr(sidecar, 'app', 1), ctr(sidecar, 'tool', 1)],
  },
  {
    // vpn was recreated (or restarted) after app started: app's network namespace is gone. tool started later: kept.
    name: 'namespace-joined-service-restarted-behind',
    desired: sidecar,
    containers: [ctr(sidecar, 'vpn', 1, { startedAt: NOW - 60_000 }), ctr(sidecar, 'app', 1, { startedAt: NOW - 120_000 }), ctr(sidecar, 'tool', 1, { startedAt: NOW - 30_000 })],
  },
  {
    // vpn crashed and its restart is due now: app is left alone in this pass (a crash loop must not drag it through a
    // gate every pass); once vpn runs again, its later start time recreates app (namespace-joined-service-restarted-behind).
    name: 'namespace-joined-service-crash-restart',
    desired: sidecar,
    containers: [ctr(sidecar, 'vpn', 1, { state: 'exited', exitCode: 1, finishedAt: NOW - 60_000 }), ctr(sidecar, 'app', 1), ctr(sidecar, 'tool', 1, { state: 'exited', exitCode: 0, finishedAt: NOW - 60_000 })],
  },
  {
    // Nothing changed and the dependents started after vpn: nothing to do.
    name: 'namespace-joined-service-steady',
    desired: sidecar,
    containers: [ctr(sidecar, 'vpn', 1, { startedAt: NOW - 120_000 }), ctr(sidecar, 'app', 1, { startedAt: NOW - 60_000 }), ctr(sidecar, 'tool', 1, { startedAt: NOW - 60_000 })],
  },
];
