// `cmesh exec web sh -c 'echo hi'`: everything after the service is the command, as in Compose (whose flag parser
// stops at the first operand). Commander would read `-c` as an option, so a `--` goes in before the command; and
// `run -p 8080:80` means publish, not the global `-p` project name, so it becomes `--publish`; `rm -f` becomes --force.

import { GLOBAL_OPTIONS_WITH_VALUE as GLOBAL_WITH_VALUE } from './global-options.ts';

const VERB_WITH_VALUE: Record<string, string[]> = {
  exec: ['-u', '--user', '-w', '--workdir', '-e', '--env', '--index'],
  run: [
    ...['-u', '--user', '-w', '--workdir', '-e', '--env', '--entrypoint', '-v', '--volume', '--publish', '--name'],
    ...['-l', '--label', '--env-from-file', '--cap-add', '--cap-drop', '--pull'],
  ],
};

export function commandAfterService(argv: readonly string[]): string[] {
  const out = [...argv];
  const global = new Set(GLOBAL_WITH_VALUE);
  let i = 0;
  while (i < out.length && out[i]!.startsWith('-') && out[i] !== '--') i += global.has(out[i]!) ? 2 : 1;
  const verb = out[i];
  // `rm -f` is Compose's --force, not the global --file.
  if (verb === 'rm') return out.map((arg, j) => (j > i && arg === '-f' && !out.slice(i, j).includes('--') ? '--force' : arg));
  if (verb === undefined || !Object.hasOwn(VERB_WITH_VALUE, verb)) return out;
  const withValue = new Set([...GLOBAL_WITH_VALUE, ...VERB_WITH_VALUE[verb]!]);
  for (let j = i + 1; j < out.length; j++) {
    const arg = out[j]!;
    if (arg === '--') return out;
    if (arg.startsWith('-') && arg.length > 1) {
      if (verb === 'run' && arg === '-p') out[j] = '--publish';
      else if (verb === 'run' && arg.startsWith('-p') && !arg.startsWith('--')) out[j] = `--publish=${arg.slice(2)}`;
      if (withValue.has(out[j]!)) j++;
      continue;
    }
    // `arg` is the service: what follows is the command, whatever it looks like.
    if (j + 1 < out.length && out[j + 1] !== '--') out.splice(j + 1, 0, '--');
    return out;
  }
  return out;
}
