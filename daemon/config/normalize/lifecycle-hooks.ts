// `post_start` / `pre_stop`: lists of {command, user, privileged, working_dir, environment} → LifecycleHook[].

import type { LifecycleHook } from '../../api/project.ts';
import { get, isMap, type YNode } from '../node.ts';
import type { PathSeg } from '../positions.ts';
import { LIFECYCLE_HOOK_KEYS } from '../schema.ts';
import { readCommand } from './command.ts';
import { checkKeys, type Ctx, readBool, readKeyValues, readString, typeError } from './read.ts';

const EXAMPLE = 'e.g. `post_start: [{command: ["sh", "-c", "echo ready > /tmp/ready"]}]`';

export function readLifecycleHooks(ctx: Ctx, node: YNode, path: PathSeg[]): LifecycleHook[] {
  if (node.kind === 'scalar' && node.value === null) return [];
  if (node.kind !== 'seq') {
    typeError(ctx, node, path, 'a list of hooks', EXAMPLE);
    return [];
  }
  const hooks: LifecycleHook[] = [];
  node.items.forEach((item, i) => {
    const hook = readLifecycleHook(ctx, item, [...path, i]);
    if (hook !== undefined) hooks.push(hook);
  });
  return hooks;
}

/** One {command, user, privileged, working_dir, environment} (a hook, or develop.watch `exec`). */
export function readLifecycleHook(ctx: Ctx, item: YNode, p: PathSeg[]): LifecycleHook | undefined {
  if (!isMap(item)) {
    typeError(ctx, item, p, 'a mapping with a command', EXAMPLE);
    return undefined;
  }
  checkKeys(ctx, item, p, { supported: LIFECYCLE_HOOK_KEYS });
  const commandNode = get(item, 'command');
  const command = commandNode === undefined ? undefined : readCommand(ctx, commandNode, [...p, 'command']);
  if (command === undefined || command.length === 0) {
    if (commandNode === undefined || (commandNode.kind === 'scalar' && commandNode.value === null) || command?.length === 0) {
      ctx.issues.error(commandNode?.pos ?? item.pos, p, 'a lifecycle hook needs a non-empty "command"', EXAMPLE);
    }
    return undefined;
  }
  const hook: LifecycleHook = { command, environment: {} };
  const user = get(item, 'user');
  if (user !== undefined) assign(hook, 'user', readString(ctx, user, [...p, 'user'], { coerce: true }));
  const workingDir = get(item, 'working_dir');
  if (workingDir !== undefined) assign(hook, 'workingDir', readString(ctx, workingDir, [...p, 'working_dir']));
  const privileged = get(item, 'privileged');
  if (privileged !== undefined) assign(hook, 'privileged', readBool(ctx, privileged, [...p, 'privileged']));
  const env = get(item, 'environment');
  if (env !== undefined) hook.environment = readKeyValues(ctx, env, [...p, 'environment'], true);
  return hook;
}

function assign<K extends keyof LifecycleHook>(hook: LifecycleHook, key: K, value: LifecycleHook[K] | undefined): void {
  if (value !== undefined) hook[key] = value;
}
