// The one concurrency limiter: a FIFO counting semaphore, a per-host set of them
// (`--max-per-registry`, App Registry concurrency) and a settle-everything map for stage
// fan-outs. Some registries (Artifactory, quay.io under load) answer bursts with resets or
// 429, and a small bound costs little since transfers are bandwidth-bound anyway.

/** At most `limit` functions run at once; the others wait in FIFO order. */
export class Limiter {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`limit must be a positive integer, got ${limit}`);
  }

  /** Functions running now. */
  get active(): number {
    return this.running;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit)
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await fn();
    } finally {
      // Hand the slot straight to the next waiter, so a newcomer cannot overtake it.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}

export interface HostLimits {
  /** Concurrent requests per host unless `perHost` says otherwise. */
  limit: number;
  /** Bounds for particular hosts ("quay.io": 2). */
  perHost?: Readonly<Record<string, number>>;
}

/** One Limiter per host, created on first use; share one instance to bound several clients. */
export class HostLimiter {
  private readonly limiters = new Map<string, Limiter>();
  readonly limits: HostLimits;

  constructor(limits: number | HostLimits) {
    this.limits = typeof limits === 'number' ? { limit: limits } : limits;
    new Limiter(this.limits.limit); // validates the default bound early
  }

  /** The bound that applies to `host`. */
  limitOf(host: string): number {
    return this.limits.perHost?.[host] ?? this.limits.limit;
  }

  run<T>(host: string, fn: () => Promise<T>): Promise<T> {
    let l = this.limiters.get(host);
    if (!l) {
      l = new Limiter(this.limitOf(host));
      this.limiters.set(host, l);
    }
    return l.run(fn);
  }
}

export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * Runs `fn` on every item with at most `concurrency` at once; results in input order. Every
 * item is tried and each failure reported, which is how upstream aggregates per-package errors.
 */
export async function mapSettled<I, O>(
  items: readonly I[],
  concurrency: number,
  fn: (item: I, index: number) => Promise<O>,
): Promise<Settled<O>[]> {
  const limiter = new Limiter(concurrency);
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

/** Runs `fn` on every item, `concurrency` at once, then throws the first failure, if any. */
export async function mapAll<I, O>(
  items: readonly I[],
  concurrency: number,
  fn: (item: I, index: number) => Promise<O>,
): Promise<O[]> {
  const settled = await mapSettled(items, concurrency, fn);
  const failed = settled.find((s) => !s.ok);
  if (failed && !failed.ok) throw failed.error;
  return settled.map((s) => (s as { ok: true; value: O }).value);
}
