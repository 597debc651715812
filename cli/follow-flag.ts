// `cmesh logs -f` means follow, as in Compose: the global `-f, --file` would otherwise take it (commander recognises
// program options after the verb too), so after `logs` / `daemon logs` a bare `-f` is rewritten to `--follow`.

import { GLOBAL_OPTIONS_WITH_VALUE as GLOBAL_WITH_VALUE } from './global-options.ts';

export function followFlagAfterVerb(argv: readonly string[]): string[] {
  const out = [...argv];
  let i = 0;
  while (i < out.length && out[i]!.startsWith('-') && out[i] !== '--') i += GLOBAL_WITH_VALUE.has(out[i]!) ? 2 : 1;
  let j = i + 1;
  if (out[i] === 'daemon' && out[j] === 'logs') j++;
  else if (out[i] !== 'logs') return out;
  for (; j < out.length && out[j] !== '--'; j++) {
    if (out[j] === '-f') out[j] = '--follow';
    else if (GLOBAL_WITH_VALUE.has(out[j]!)) j++; // `logs --file x.yaml`, `logs -p name` keep working
  }
  return out;
}
