// Bounded parallelism without a dependency: a counting semaphore for "at most N requests
// in flight" (shared by every call of one client) and a map that tries every item, keeps
// the input order and reports each failure instead of stopping at the first one, which is
// how upstream aggregates per-package errors.

export interface Limiter {
  run<T>(task: () => Promise<T>): Promise<T>;
  readonly active: number;
}

export function createLimiter(concurrency: number): Limiter {
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  let active = 0;
  const waiting: (() => void)[] = [];
  const release = () => {
    active--;
    const next = waiting.shift();
    if (next) next();
  };
  return {
    get active() {
      return active;
    },
    async run<T>(task: () => Promise<T>): Promise<T> {
      if (active >= concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
      active++;
      try {
        return await task();
      } finally {
        release();
      }
    },
  };
}

export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** Runs `fn` on every item with at most `concurrency` at once; results in input order. */
export async function mapSettled<I, O>(
  items: readonly I[],
  concurrency: number,
  fn: (item: I, index: number) => Promise<O>,
): Promise<Settled<O>[]> {
  const limiter = createLimiter(concurrency);
  return Promise.all(
    items.map((item, i) =>
      limiter.run(async (): Promise<Settled<O>> => {
        try {
          return { ok: true, value: await fn(item, i) };
        } catch (error) {
          return { ok: false, error };
        }
      }),
    ),
  );
}
