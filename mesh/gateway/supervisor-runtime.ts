// How the supervisor starts node from a runtime the daemon delivered to /run/cmesh (daemon/gateway-runtime.ts makes
// them): a `runtime-<hash>/` directory holds the host's node, its dynamic loader and the libraries it links against,
// and the worker is run through that loader with that library path, so it runs on the host's libraries, not on the
// image's (a libc or openssl update on the host then reaches a running gateway without a new container). A plain file
// (`node-<hash>`, delivered by an older cmesh) is a node binary run as it is, on the image's loader and libraries.

import { statSync } from 'node:fs';
import { basename, join } from 'node:path';

/** The host's node binary in a runtime directory. */
export const RUNTIME_NODE = 'node';
/** The dynamic loader node names as its interpreter: the executable the worker is spawned as. */
export const RUNTIME_LOADER = 'ld.so';
/** The shared objects `ldd` lists for node (but the loader), by their file names. */
export const RUNTIME_LIBS = 'lib';

/** What to spawn for a node on `runtime`, and the arguments that go before node's own. */
export interface Launch {
  execPath: string;
  execArgv: string[];
}

const isDirectory = (path: string): boolean => {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
};

/**
 * A runtime directory: its loader, told to search its `lib` first and to run its `node` (the worker's
 * process.execPath is then the loader, /proc/self/exe; nothing in the worker spawns it). Anything else (a node binary,
 * or a path that is gone, whose spawn then fails and is given up): that path, as it is.
 */
export function launchOf(runtime: string): Launch {
  if (!isDirectory(runtime)) return { execPath: runtime, execArgv: [] };
  return { execPath: join(runtime, RUNTIME_LOADER), execArgv: ['--library-path', join(runtime, RUNTIME_LIBS), join(runtime, RUNTIME_NODE)] };
}

/**
 * The node this process runs, for its start-up log line. Run through a loader, process.execPath is the loader (what
 * the kernel executed) and argv0 the node the loader ran (the loader hands it its own argv[0]): both are named.
 */
export function nodeDescription(execPath = process.execPath, argv0 = process.argv0, version = process.version): string {
  const name = basename(execPath);
  const throughLoader = name === RUNTIME_LOADER || /^ld-linux.*\.so/.test(name);
  return throughLoader ? `node ${version} at ${argv0} through the loader ${execPath}` : `node ${version} at ${execPath}`;
}
