// Prints a project's multiplexed log stream with `service-n | ` prefixes; shared by `logs` and foreground `up`.

import type { LogFrame } from '../daemon/api/control.ts';
import type { DaemonClient } from './daemon-client.ts';
import { LogPrefixer } from './log-prefix.ts';
import type { OutStream } from './output.ts';

export interface FollowOptions {
  project: string;
  services: string[];
  follow: boolean;
  tail?: number;
  timestamps: boolean;
  color: boolean;
  signal?: AbortSignal;
}

export function logsPath(o: Pick<FollowOptions, 'project' | 'services' | 'follow' | 'tail' | 'timestamps'>): string {
  const q = new URLSearchParams();
  if (o.follow) q.set('follow', '1');
  if (o.tail !== undefined) q.set('tail', String(o.tail));
  if (o.timestamps) q.set('timestamps', '1');
  for (const s of o.services) q.append('service', s);
  const text = q.toString();
  return `/v1/projects/${encodeURIComponent(o.project)}/logs${text ? `?${text}` : ''}`;
}

/** Resolves when the stream ends (no follow) or the signal aborts; daemon errors are thrown as CmeshErrors. */
export async function printLogs(client: DaemonClient, out: OutStream, o: FollowOptions): Promise<void> {
  const prefixer = new LogPrefixer({ color: o.color, services: o.services });
  for await (const frame of client.stream<LogFrame>('GET', logsPath(o), undefined, o.signal)) {
    out.write(prefixer.format(frame, { timestamps: o.timestamps }));
  }
}
