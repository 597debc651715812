// `develop.watch` rules → WatchRule[] with absolute host paths.

import type { WatchRule } from '../../api/project.ts';
import { get, isMap, type YNode } from '../node.ts';
import type { PathSeg } from '../positions.ts';
import { DEVELOP_KEYS, WATCH_ACTIONS, WATCH_KEYS, WATCH_UNSUPPORTED } from '../schema.ts';
import { resolveHostPath } from './paths.ts';
import { checkKeys, type Ctx, readEnum, readMap, readString, readStringList, typeError } from './read.ts';

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
    rules.push(rule);
  });
  return rules;
}
