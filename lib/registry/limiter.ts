// Bounded parallelism per registry (`--max-per-registry`, default 4 as in go-containerregistry
// and oc): some registries (Artifactory, quay.io under load) answer bursts with resets or 429,
// and a small bound costs little since uploads are bandwidth-bound anyway.

/** A counting semaphore: at most `limit` functions run at once; others wait in FIFO order. */
export class Limiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`limit must be a positive integer, got ${limit}`);
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

/** One Limiter per key (registry host), created on first use. */
export class KeyedLimiter {
  private readonly limiters = new Map<string, Limiter>();
  constructor(readonly limit: number) {}
  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    let l = this.limiters.get(key);
    if (!l) {
      l = new Limiter(this.limit);
      this.limiters.set(key, l);
    }
    return l.run(fn);
  }
}
