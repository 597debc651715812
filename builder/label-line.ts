// One LABEL line for all of a build's labels. Engine 20.10's classic builder turns each build-time label (the `labels`
// build parameter) into a LABEL step of its own, a container commit each (100–250 ms): six labels cost about a second
// on every rebuild. Appended to a copy of the Dockerfile, one line costs one step.

import type { ExtraFile } from './context.ts';

/** The copy's name inside the tar; the engine drops it from the context through .dockerignore (as the docker CLI does). */
export const LABELLED_DOCKERFILE = '.cmesh-dockerfile-labelled';

const SAFE_KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/;
/** No quotes, backslashes, `$` (LABEL expands variables) or whitespace: anything else keeps the build parameter. */
const SAFE_VALUE = /^[A-Za-z0-9._/:@+,=-]*$/;

/** `LABEL "k"="v" ...` in key order, or undefined when a key or value needs quoting rules we do not want to rely on. */
export function labelLine(labels: Record<string, string>): string | undefined {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return undefined;
  if (!keys.every((k) => SAFE_KEY.test(k) && SAFE_VALUE.test(labels[k]!))) return undefined;
  return `LABEL ${keys.map((k) => `"${k}"="${labels[k]}"`).join(' ')}`;
}

/**
 * The extra tar files for a single-step labelled build: the Dockerfile copy with the line appended (after a newline,
 * so a last line without one stays intact), and a .dockerignore that names the copy, so `COPY . …` never ships it.
 */
export function labelledBuildFiles(dockerfile: Buffer, dockerignore: Buffer | undefined, line: string): ExtraFile[] {
  const ignore = dockerignore
    ? Buffer.concat([dockerignore, Buffer.from(`\n${LABELLED_DOCKERFILE}\n`)])
    : // No .dockerignore before: ignore the generated one too, so the image's files are what they were without it.
      Buffer.from(`${LABELLED_DOCKERFILE}\n.dockerignore\n`);
  return [
    { name: LABELLED_DOCKERFILE, content: Buffer.concat([dockerfile, Buffer.from(`\n${line}\n`)]) },
    { name: '.dockerignore', content: ignore },
  ];
}
