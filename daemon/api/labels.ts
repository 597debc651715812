// Labels are the database: every engine object cmesh creates carries these, and observe() trusts nothing else.

export const LABEL_PREFIX = 'dev.cmesh.';
export const Labels = {
  managed: 'dev.cmesh.managed',
  project: 'dev.cmesh.project',
  service: 'dev.cmesh.service',
  replica: 'dev.cmesh.replica',
  specHash: 'dev.cmesh.spec-hash',
  /** Compose-file paths the project came from, comma-joined (for `cmesh ls`). */
  configFiles: 'dev.cmesh.config-files',
  /** Network/volume key inside the project (the engine name may differ). */
  network: 'dev.cmesh.network',
  volume: 'dev.cmesh.volume',
  /** Digest of a network's or volume's create options (ipam, driver_opts…), to notice a compose change the object lacks. */
  options: 'dev.cmesh.options',
  /** `next` on the new container of a start-first rollout; pending while it still has its temporary name. */
  rollout: 'dev.cmesh.rollout',
  /** The replica's canonical engine name when compose's `container_name` chose it (else it follows containerName()). */
  containerName: 'dev.cmesh.container-name',
  /** `gateway` on a project's east-west gateway container (it has no service or replica label). */
  role: 'dev.cmesh.role',
  /**
   * `true` on a `cmesh run` container. It carries no service or replica label, so nothing that serves, heals, scales,
   * logs or lists replicas ever takes it for one; the service it was made from is in `oneoffService`.
   */
  oneoff: 'dev.cmesh.oneoff',
  oneoffService: 'dev.cmesh.oneoff-service',
  /**
   * On a replica reached at its own address (Endpoint.direct): the engine network to take its address from, and its
   * container ports (`80/tcp,53/udp`); an image's other EXPOSEd ports stay out of its endpoints, as when published.
   */
  reachNetwork: 'dev.cmesh.reach-network',
  reachPorts: 'dev.cmesh.reach-ports',
  /** Set on everything tests create so scripts/reap.sh can clean it up. */
  test: 'dev.cmesh.test',
} as const;

/** Labels that mark an object as owned by cmesh for a project. */
export function projectLabels(project: string): Record<string, string> {
  return { [Labels.managed]: 'true', [Labels.project]: project };
}

export function containerLabels(
  project: string,
  service: string,
  replica: number,
  specHash: string,
): Record<string, string> {
  return {
    ...projectLabels(project),
    [Labels.service]: service,
    [Labels.replica]: String(replica),
    [Labels.specHash]: specHash,
  };
}

/** Engine name of a replica container: `<project>-<service>-<n>` like Compose v2. */
export function containerName(project: string, service: string, replica: number): string {
  return `${project}-${service}-${replica}`;
}

/** Parses the replica index label; NaN-safe so a hand-edited label never crashes observe(). */
export function replicaOf(labels: Record<string, string>): number | undefined {
  const raw = labels[Labels.replica];
  if (raw === undefined || !/^[1-9][0-9]{0,5}$/.test(raw)) return undefined;
  return Number(raw);
}

/** Temporary name of a replica's new container during a start-first rollout, until it is renamed over the old one. */
export function rolloutName(project: string, service: string, replica: number): string {
  return `${containerName(project, service, replica)}-next`;
}

/**
 * A rollout's new container that was not promoted yet: marked `next` and still under its temporary name. Labels cannot
 * change after create, so a promoted one keeps the label and is told apart by its (canonical) name.
 */
export function isPendingNext(c: { name: string; labels: Record<string, string> }): boolean {
  if (c.labels[Labels.rollout] !== 'next') return false;
  const service = c.labels[Labels.service];
  const project = c.labels[Labels.project];
  const replica = replicaOf(c.labels);
  if (service === undefined || project === undefined || replica === undefined) return false;
  const canonical = c.labels[Labels.containerName];
  return c.name === (canonical === undefined ? rolloutName(project, service, replica) : `${canonical}-next`);
}

/**
 * Id of one replica in the mesh's pools, the supervisor's memory and the UI: `<service>#<n>`. Compose service names
 * never contain `#`, so the last `#` splits it back.
 */
export function replicaId(service: string, replica: number): string {
  return `${service}#${replica}`;
}

/** The inverse of replicaId; undefined for anything else (a rollout's `web#1~next`, a bare service name). */
export function parseReplicaId(id: string): { service: string; replica: number } | undefined {
  const m = /^(.+)#(\d{1,6})$/.exec(id);
  return m ? { service: m[1]!, replica: Number(m[2]) } : undefined;
}

/** A `cmesh run` container: never a replica, removed by `down` (see Labels.oneoff). */
export function isOneOff(c: { labels: Record<string, string> }): boolean {
  return c.labels[Labels.oneoff] === 'true';
}

/** A project's east-west gateway container: cmesh's own, never a replica (see Labels.role). */
export function isGateway(c: { labels: Record<string, string> }): boolean {
  return c.labels[Labels.role] === 'gateway';
}

/** Labels of a one-off container of `service`: the project's, without the service and replica labels of a replica. */
export function oneOffLabels(project: string, service: string): Record<string, string> {
  return { ...projectLabels(project), [Labels.oneoff]: 'true', [Labels.oneoffService]: service };
}
