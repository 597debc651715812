// Mounts the dashboard: store + data flow + ink, keys → reducer/effects, resize → re-layout; resolves on quit.

import { render, useApp, useInput, useStdout } from 'ink';
import { type ReactNode, useEffect, useState, useSyncExternalStore } from 'react';
import type { ProjectSpec } from '../../daemon/api/project.ts';
import { App } from './App.tsx';
import { type DashClient, DashStore, runEffect, startDataFlow } from './data.ts';
import { handleKey } from './keys.ts';
import { initialState } from './state.ts';

export interface DashOptions {
  client: DashClient;
  project: string;
  /** The loaded compose project, for rebuild (`b`); absent with only `-p`. */
  spec?: ProjectSpec;
  color: boolean;
  /** Snapshot interval (≤ 1 Hz by default). */
  pollMs?: number;
}

function useTerminalSize(): { width: number; height: number } {
  const { stdout } = useStdout();
  const [size, setSize] = useState(() => ({ width: stdout.columns || 80, height: stdout.rows || 24 }));
  useEffect(() => {
    const onResize = (): void => {
      // The terminal reflows the old, wider frame on a shrink; ink's line-count erase then leaves debris: clear it.
      stdout.write('\u001b[2J\u001b[H');
      setSize({ width: stdout.columns || 80, height: stdout.rows || 24 });
    };
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout]);
  return size;
}

export function Dashboard({ store, options }: { store: DashStore; options: DashOptions }): ReactNode {
  const state = useSyncExternalStore(store.subscribe, store.getSnapshot);
  const { width, height } = useTerminalSize();
  const { exit } = useApp();
  useInput((input, key) => {
    // Decide against the latest reduced state, not the last rendered frame (keys can outrun 10 fps).
    const { actions, effect } = handleKey(store.state, input, key);
    store.dispatch(...actions);
    if (effect?.kind === 'quit') exit();
    else if (effect) void runEffect(options.client, options.project, options.spec, effect, store.dispatch);
  });
  return <App state={state} width={width} height={height} color={options.color} />;
}

/** Runs until `q`; the terminal (raw mode, cursor, alternate lines) is restored by ink's unmount. */
export async function runDashboard(options: DashOptions): Promise<void> {
  const store = new DashStore(initialState(options.project));
  const ac = new AbortController();
  const flow = startDataFlow({ client: options.client, project: options.project, store, signal: ac.signal, ...(options.pollMs ? { pollMs: options.pollMs } : {}) });
  const app = render(<Dashboard store={store} options={options} />, { exitOnCtrlC: false, patchConsole: true });
  try {
    await app.waitUntilExit();
  } finally {
    ac.abort();
    store.close();
    app.unmount();
    app.cleanup();
    await Promise.race([flow, new Promise((r) => setTimeout(r, 500).unref())]);
  }
}
