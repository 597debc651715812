// `develop.watch` rules → WatchRule[] with absolute host paths.

import type { WatchRule } from '../../api/project.ts';
import { get, isMap, type YMap, type YNode } from '../node.ts';
import type { PathSeg } from '../positions.ts';
import { DEVELOP_KEYS, WATCH_ACTIONS, WATCH_KEYS, WATCH_UNSUPPORTED } from '../schema.ts';
import { resolveHostPath } from './paths.ts';
import { readLifecycleHook } from './lifecycle-hooks.ts';
import { checkKeys, type Ctx, readBool, readEnum, readMap, readString, readStringList, typeError } from './read.ts';

/** initial_sync (sync actions only) and exec (required by sync+exec, meaningless elsewhere). */
function readSyncExtras(ctx: Ctx, item: YMap, p: PathSeg[], action: WatchRule['action'], rule: WatchRule): void {
  const initial = get(item, 'initial_sync');
  if (initial !== undefined) {
    const b = readBool(ctx, initial, [...p, 'initial_sync']);
    if (b === true && !action.startsWith('sync')) {
      ctx.issues.warn(item.entries.get('initial_sync')!.keyPos, [...p, 'initial_sync'], `initial_sync only applies to sync actions, not "${action}"; ignored`);
    } else if (b === true) rule.initialSync = true;
  }
  const exec = get(item, 'exec');
  if (exec !== undefined) {
    const hook = readLifecycleHook(ctx, exec, [...p, 'exec']);
    if (hook !== undefined && action !== 'sync+exec') {
      ctx.issues.warn(item.entries.get('exec')!.keyPos, [...p, 'exec'], `exec only runs with action "sync+exec", not "${action}"; ignored`);
    } else if (hook !== undefined) rule.exec = hook;
  } else if (action === 'sync+exec') {
    ctx.issues.error(item.pos, p, 'watch action "sync+exec" needs an "exec" command', 'e.g. `exec: {command: ["kill", "-HUP", "1"]}`');
  }
}

export function readDevelop(ctx: Ctx, node: YNode, path: PathSeg[]): WatchRule[] {
  const dev = readMap(ctx, node, path);
  if (dev === undefined) return [];
  checkKeys(ctx, dev, path, { supported: DEVELOP_KEYS });
  const watch = get(dev, 'watch');
  if (watch === undefined) return [];
  const wp = [...path, 'watch'];
  if (watch.kind !== 'seq') {
    typeError(ctx, watch, wp, 'a list of watch rules');
    return [];
  }
  const rules: WatchRule[] = [];
  watch.items.forEach((item, i) => {
    const p = [...wp, i];
    if (!isMap(item)) {
      typeError(ctx, item, p, 'a mapping with action and path');
      return;
    }
    checkKeys(ctx, item, p, { supported: WATCH_KEYS, unsupported: WATCH_UNSUPPORTED });
    const actionNode = get(item, 'action');
    const pathNode = get(item, 'path');
    if (actionNode === undefined || pathNode === undefined) {
      ctx.issues.error(item.pos, p, `watch rule is missing "${actionNode === undefined ? 'action' : 'path'}"`, 'e.g. {action: sync, path: ./src, target: /app/src}');
      return;
    }
    const action = readEnum(ctx, actionNode, [...p, 'action'], WATCH_ACTIONS);
    const hostPath = readString(ctx, pathNode, [...p, 'path']);
    if (action === undefined || hostPath === undefined) return;
    const rule: WatchRule = { action, path: resolveHostPath(hostPath, ctx.projectDir, ctx.homeDir), ignore: [] };
    const target = get(item, 'target');
    if (target !== undefined) {
      const t = readString(ctx, target, [...p, 'target']);
      if (t !== undefined) rule.target = t;
    } else if (action.startsWith('sync')) {
      ctx.issues.error(item.pos, p, `watch action "${action}" needs a "target"`, 'set `target:` to the container path to sync into');
    }
    const ignore = get(item, 'ignore');
    if (ignore !== undefined) rule.ignore = readStringList(ctx, ignore, [...p, 'ignore'], { allowString: true }) ?? [];
    const include = get(item, 'include');
    const included = include === undefined ? undefined : readStringList(ctx, include, [...p, 'include'], { allowString: true });
    if (included !== undefined && included.length > 0) rule.include = included;
    readSyncExtras(ctx, item, p, action, rule);
    rules.push(rule);
  });
  return rules;
}
