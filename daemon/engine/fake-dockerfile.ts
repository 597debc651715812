// The fake engine's classic builder: reads the Dockerfile out of the context tar and writes the NDJSON the real engine
// would stream for it (steps, RUN output through the fake shell, an error line on failure), so the fake's builds go
// through the adapter's BuildProgressParser and fail the same way.

import type { Readable } from 'node:stream';
import { extract } from 'tar-stream';
import { type ExposedPort, parseExposedPorts } from '../api/engine.ts';
import { runShell } from './fake-shell.ts';

/** The file at `path` in a tar stream (the whole stream is read, like the engine reads the context). */
export async function fileFromTar(tar: Readable, path: string): Promise<string | undefined> {
  const ex = extract();
  tar.pipe(ex);
  let found: string | undefined;
  for await (const entry of ex) {
    const chunks: Buffer[] = [];
    for await (const c of entry) chunks.push(c as Buffer);
    if (entry.header.name.replace(/^\.\//, '') === path.replace(/^\.\//, '')) found = Buffer.concat(chunks).toString('utf8');
  }
  return found;
}

/**
 * NDJSON for building `dockerfile`; `hasImage` says whether a FROM image is present (the engine would try to pull).
 * Build-parameter `labels` become extra `LABEL k=v` steps after the Dockerfile's, sorted by key, as the engine adds them.
 */
export function classicBuildOutput(
  dockerfile: string | undefined,
  labels: Record<string, string>,
  hasImage: (ref: string) => boolean,
  imageId: string,
): string {
  const lines: object[] = [];
  const fail = (message: string, code?: number) => {
    lines.push({ errorDetail: { ...(code === undefined ? {} : { code }), message }, error: message });
    return lines.map((l) => JSON.stringify(l)).join('\n');
  };
  if (dockerfile === undefined) return fail('Cannot locate specified Dockerfile');
  const steps = dockerfile
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .concat(Object.keys(labels).sort().map((k) => `LABEL ${k}=${labels[k]}`));
  for (const [i, step] of steps.entries()) {
    lines.push({ stream: `Step ${i + 1}/${steps.length} : ${step}` }, { stream: '\n' });
    const [instruction = '', ...rest] = step.split(/\s+/);
    const arg = step.slice(instruction.length).trim();
    if (instruction.toUpperCase() === 'FROM') {
      const ref = rest[0] ?? '';
      if (ref !== 'scratch' && !hasImage(ref)) {
        return fail(`pull access denied for ${ref}, repository does not exist or may require 'docker login'`);
      }
    } else if (instruction.toUpperCase() === 'RUN') {
      const command = arg.startsWith('[') ? (JSON.parse(arg) as string[]) : ['/bin/sh', '-c', arg];
      const run = runShell(command);
      lines.push({ stream: ' ---> Running in 0123456789ab\n' });
      for (const o of run.output) lines.push({ stream: `${o.text}\n` });
      if (run.exitCode !== undefined && run.exitCode !== 0) {
        return fail(`The command '${command.join(' ')}' returned a non-zero code: ${run.exitCode}`, run.exitCode);
      }
    }
  }
  lines.push({ aux: { ID: imageId } }, { stream: `Successfully built ${imageId.slice(7, 19)}\n` });
  return lines.map((l) => JSON.stringify(l)).join('\n');
}

/** The ports an image built from `dockerfile` exposes, as the engine records them: its base's, plus each `EXPOSE`. */
export function dockerfileExposes(dockerfile: string, baseExposes: (ref: string) => ExposedPort[]): ExposedPort[] {
  const keys: Record<string, true> = {};
  for (const raw of dockerfile.split('\n')) {
    const [instruction = '', ...args] = raw.trim().split(/\s+/);
    if (instruction.toUpperCase() === 'FROM' && args[0] && args[0] !== 'scratch') {
      for (const p of baseExposes(args[0])) keys[`${p.port}/${p.protocol}`] = true;
    }
    if (instruction.toUpperCase() === 'EXPOSE') for (const a of args) keys[a.includes('/') ? a : `${a}/tcp`] = true;
  }
  return parseExposedPorts(keys);
}
