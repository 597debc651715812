// The daemon's shared east-west gateway (issue #15): one container per CMESH_HOME, kept running between ups, that
// joins each meshed project's networks with that project's names as aliases and leaves them at `down`. A gateway
// container created per up costs the engine a tenth container on every `up` (bench/RESULTS.md: the engine floor alone
// went from 0.63–0.69× to 0.66–0.77× compose); joining a running one costs a network connect.
// Its worker serves every project from its own control socket (mesh/gateway/shared-gateway.ts), bound on the container's
// addresses on that project's networks only, so projects never reach each other through it.

import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { GATEWAY_SOCKET_DIR, GATEWAY_WORKER_POINTER } from './api/east-west.ts';
import type { ContainerCreateSpec, ContainerEngine, ContainerInfo } from './api/engine.ts';
import { Labels } from './api/labels.ts';
import { GATEWAY_IDENTITY_LABEL } from './reconcile/plan-gateway-live.ts';
import { GATEWAY_STOP_SEC } from './reconcile/plan-gateway-refs.ts';

/** On the shared gateway: the id of the CMESH_HOME whose daemon keeps it (it has no project label). */
export const SHARED_GATEWAY_LABEL = 'dev.cmesh.gateway-shared';
/** The engine network a new container gets when none is named: left before the shared gateway starts. */
const DEFAULT_BRIDGE = 'bridge';

/** A short, stable id of a daemon's home: names its shared gateway, so daemons of other homes keep their own. */
export function homeId(home: string): string {
  return createHash('sha256').update(resolve(home)).digest('hex').slice(0, 12);
}

export function sharedGatewayName(home: string): string {
  return `cmesh-gateway-${homeId(home)}`;
}

/** The shared gateway's create spec: the whole socket root (every project's directory) mounted, no network yet. */
export function sharedGatewaySpec(home: string, root: string, image: string, identity: string): ContainerCreateSpec {
  return {
    name: sharedGatewayName(home),
    image,
    env: { CMESH_GATEWAY_SHARED: '1', CMESH_GATEWAY_WORKER: `${GATEWAY_SOCKET_DIR}/${GATEWAY_WORKER_POINTER}` },
    labels: { [Labels.managed]: 'true', [Labels.role]: 'gateway', [SHARED_GATEWAY_LABEL]: homeId(home), [GATEWAY_IDENTITY_LABEL]: identity },
    ports: [],
    mounts: [{ type: 'bind', source: root, target: GATEWAY_SOCKET_DIR, readOnly: false }],
    networks: [],
    stopTimeoutSec: GATEWAY_STOP_SEC,
    init: true,
  };
}

/** The image the shared gateway runs on: its tag, what a kept container must share with it, and when it is there. */
export interface SharedGatewayImage {
  tag: string;
  identity: string;
  present: Promise<unknown>;
}

export interface SharedGatewayOptions {
  engine: ContainerEngine;
  home: string;
  /** The directory of every project's control socket (CMESH_HOME/gw), mounted at /run/cmesh. */
  root: string;
  /** Shared mode: projects' first gateways are this one (else it is only left, by projects that were on it). */
  on: boolean;
  log?: (line: string) => void;
}

export class SharedGateway {
  readonly name: string;
  readonly on: boolean;
  readonly #o: SharedGatewayOptions;
  /** Its last inspection: the addresses the project tables name. */
  #info: ContainerInfo | undefined;
  /** The inspection under way: a pass's planner and its context look at once, and share it. */
  #looking: Promise<ContainerInfo | undefined> | undefined;
  /** Not in shared mode and found absent: nothing makes one, so no pass needs to look again. */
  #absent = false;
  /** The running container's id, once made sure of; forgotten when an inspect finds it gone or stopped. */
  #ready: Promise<string> | undefined;
  /** #ready has resolved (an inspect may forget it then, not while it is being made). */
  #made = false;
  /** The identity a kept container lacked (said once). */
  #stale: string | undefined;

  constructor(options: SharedGatewayOptions) {
    this.#o = options;
    this.name = sharedGatewayName(options.home);
    this.on = options.on;
  }

  /**
   * The container as the engine has it now, for a pass to plan with; kept for addressesOn(). An engine error throws (a
   * pass must not plan on a guess). Outside shared mode, once found absent, it is not looked for again. Callers at the
   * same time share one inspection; `after` a change of theirs (a join), one that began before it is not taken.
   */
  now(after?: 'changed'): Promise<ContainerInfo | undefined> {
    if (!this.on && this.#absent) return Promise.resolve(undefined);
    if (this.#looking && after !== 'changed') return this.#looking;
    const looking: Promise<ContainerInfo | undefined> = this.inspect().then((info) => {
      // Only the latest inspection speaks: one that began before a join must not put back what was before it.
      if (this.#looking !== looking) return info;
      this.#looking = undefined;
      this.#info = info;
      if (!this.on) this.#absent = info === undefined;
      return info;
    });
    looking.catch(() => {
      if (this.#looking === looking) this.#looking = undefined;
    });
    this.#looking = looking;
    return looking;
  }

  /** Its addresses on these networks (a project's), as last inspected. */
  addressesOn(networks: ReadonlySet<string>): string[] {
    return (this.#info?.networks ?? []).flatMap((n) => (networks.has(n.name) && n.address ? [n.address] : []));
  }

  /** The container as the engine has it now (networks with aliases and addresses); undefined when there is none. */
  async inspect(): Promise<ContainerInfo | undefined> {
    const c = await this.#o.engine.inspectContainer(this.name);
    // A container by this name that is not ours (no label for this home) is never taken for it.
    if (c && c.labels[SHARED_GATEWAY_LABEL] !== homeId(this.#o.home)) return undefined;
    // Gone or stopped since it was made sure of: the next ensure() brings it back (not while one is under way).
    if (c?.state !== 'running' && this.#made) {
      this.#ready = undefined;
      this.#made = false;
    }
    return c;
  }

  /**
   * Resolves to the running container's id: adopted, started or created (on the image once it is present). Made once
   * per daemon and kept; a failure is not kept, so the next pass tries again.
   */
  ensure(image: SharedGatewayImage): Promise<string> {
    this.#ready ??= this.#ensure(image).then(
      (id) => {
        this.#made = true;
        return id;
      },
      (err: unknown) => {
        this.#ready = undefined;
        throw err;
      },
    );
    return this.#ready;
  }

  async #ensure(image: SharedGatewayImage): Promise<string> {
    const { engine } = this.#o;
    let have = await this.inspect();
    if (have && have.labels[GATEWAY_IDENTITY_LABEL] !== image.identity) {
      if ((have.networks ?? []).length === 0) {
        this.#o.log?.(`shared east-west gateway ${this.name}: made for another image (${have.image}), recreated`);
        await engine.removeContainer(have.id, { force: true });
        have = undefined;
      } else if (this.#stale !== have.id) {
        // Projects are on it: taking it away would cut their callers. It is replaced once none is (next daemon start).
        this.#stale = have.id;
        this.#o.log?.(`shared east-west gateway ${this.name}: made for another image (${have.image}); kept while projects use it`);
      }
    }
    if (have?.state === 'running') return have.id;
    if (have && have.state !== 'created' && have.state !== 'exited') {
      await engine.removeContainer(have.id, { force: true });
      have = undefined;
    }
    let id = have?.id;
    if (id === undefined) {
      await image.present;
      // The mount's source: every project's socket directory appears in it later.
      await mkdir(this.#o.root, { recursive: true, mode: 0o700 });
      ({ id } = await engine.createContainer(sharedGatewaySpec(this.#o.home, this.#o.root, image.tag, image.identity)));
      // The engine attaches a container made without a network to its default bridge: a gateway needs only the
      // projects' networks, and nothing outside should reach it.
      await engine.disconnectNetwork(id, DEFAULT_BRIDGE);
    }
    await engine.startContainer(id);
    this.#o.log?.(`shared east-west gateway ${this.name} ${have ? 'started' : 'created'} (${id.slice(0, 12)})`);
    return id;
  }

  /** At the daemon's stop: removed when no project is on it (one that is keeps its callers served meanwhile). */
  async removeIfUnused(): Promise<boolean> {
    const c = await this.inspect().catch(() => undefined);
    if (!c || (c.networks ?? []).some((n) => n.name !== DEFAULT_BRIDGE)) return false;
    await this.#o.engine.removeContainer(c.id, { force: true });
    this.#ready = undefined;
    this.#made = false;
    return true;
  }
}
