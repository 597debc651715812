// Several engine streams read as one: the adapter's events come from two /events subscriptions (the engine's filters
// are ANDed, and network events carry no labels to filter on), and the daemon wants one stream that ends when either does.

/**
 * Yields every source's items as they arrive. Ends when any source ends (for an engine stream that means the
 * connection went away: the caller reconnects them all) and throws the first source error; every source is aborted on
 * every exit (end, error, the caller's abort, or a consumer that stops early) and awaited, so none outlives it.
 */
export async function* mergeStreams<T>(sources: ((signal: AbortSignal) => AsyncIterable<T>)[], signal: AbortSignal): AsyncGenerator<T> {
  const inner = new AbortController();
  const onAbort = (): void => inner.abort();
  if (signal.aborted) return;
  signal.addEventListener('abort', onAbort, { once: true });
  const queue: T[] = [];
  let failure: { err: unknown } | undefined;
  let ended = false;
  let wake: (() => void) | undefined;
  const poke = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const pumps = sources.map(async (open) => {
    try {
      for await (const item of open(inner.signal)) {
        queue.push(item);
        poke();
      }
    } catch (err) {
      failure ??= { err };
    } finally {
      ended = true;
      poke();
    }
  });
  try {
    for (;;) {
      while (queue.length > 0) yield queue.shift() as T;
      if (failure) throw failure.err;
      if (ended) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    inner.abort();
    signal.removeEventListener('abort', onAbort);
    await Promise.all(pumps);
  }
}
