// Where a bench allocates, per request: a preload that samples every allocation (also those a scavenge collects, which
// a heap snapshot never sees) with V8's sampling heap profiler, and prints the sites that allocated most at exit.
// Usage: CMESH_BENCH_REQUESTS=N node --max-semi-space-size=1 --import tsx --import ./bench/alloc-sites.ts SCRIPT … N
//   (N: the requests SCRIPT makes, to print bytes per request; the sample interval is 256 bytes, so sites under ~50 B
//   a request are noise). E.g. with bench/proxy-exchange-instructions.ts CHECKOUT N.

import { Session } from 'node:inspector';

interface Frame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface SampleNode {
  callFrame: Frame;
  selfSize: number;
  children: SampleNode[];
}

const session = new Session();
session.connect();
const post = <T>(method: string, params: object = {}): Promise<T> =>
  new Promise((resolve, reject) => session.post(method, params, (err, res) => (err ? reject(err) : resolve(res as T))));

await post('HeapProfiler.enable');
await post('HeapProfiler.startSampling', { samplingInterval: 256, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });

let reported = false;
process.on('beforeExit', () => {
  if (reported) return;
  reported = true;
  void post<{ profile: { head: SampleNode } }>('HeapProfiler.stopSampling').then(({ profile }) => {
    const requests = Number(process.env['CMESH_BENCH_REQUESTS'] ?? 1);
    const rows: [number, string][] = [];
    const name = (f: Frame): string => `${f.functionName || '(anonymous)'} ${f.url.split('/').at(-1)}:${f.lineNumber + 1}`;
    const walk = (n: SampleNode, path: string[]): void => {
      const here = [...path, name(n.callFrame)];
      if (n.selfSize > 0) rows.push([n.selfSize, here.slice(-3).reverse().join(' ← ')]);
      for (const c of n.children) walk(c, here);
    };
    walk(profile.head, []);
    rows.sort((a, b) => b[0] - a[0]);
    console.log(`bytes per request (${requests} requests), by allocating site ← its caller ← theirs:`);
    for (const [size, where] of rows.slice(0, 25)) console.log(`${(size / requests).toFixed(1).padStart(9)}  ${where}`);
  });
});
