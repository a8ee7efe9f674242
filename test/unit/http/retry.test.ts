// The one retry policy, computed rather than slept: backoff growth, jitter bounds, the cap,
// Retry-After in both forms (and the values it must refuse), and when withRetry stops.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRetryAfter, retryDelay, retryPolicy, withRetry } from '../../../lib/http/retry.js';

describe('retryDelay', () => {
  it('grows ×3 from 1 s with no jitter at the midpoint', () => {
    const p = retryPolicy({ random: () => 0.5 });
    expect([0, 1, 2, 3].map((n) => retryDelay(p, n))).toEqual([1000, 3000, 9000, 27000]);
  });

  it('stays within ±jitter and under the cap (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10 }),
        fc.double({ min: 0, max: 0.9999, noNaN: true }),
        (n, r) => {
          const p = retryPolicy({ random: () => r, maxDelayMs: 20_000 });
          const base = 1000 * 3 ** n;
          const d = retryDelay(p, n);
          expect(d).toBeLessThanOrEqual(20_000);
          if (base * 1.2 <= 20_000) {
            expect(d).toBeGreaterThanOrEqual(Math.floor(base * 0.8));
            expect(d).toBeLessThanOrEqual(Math.ceil(base * 1.2));
          }
        },
      ),
    );
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2024-05-01T12:00:00Z');
  it('reads delta-seconds and HTTP dates', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Wed, 01 May 2024 12:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 01 May 2024 11:00:00 GMT', now)).toBe(0);
  });
  it('ignores absent or unreadable values', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
    expect(parseRetryAfter('1.5', now)).toBeUndefined();
  });
  it('takes the first of repeated headers', () => {
    expect(parseRetryAfter(['3', '9'], now)).toBe(3000);
  });
});

describe('withRetry', () => {
  it('retries until success and sleeps the computed delays', async () => {
    const sleeps: number[] = [];
    const p = retryPolicy({ random: () => 0.5, sleep: async (ms) => void sleeps.push(ms) });
    let calls = 0;
    const out = await withRetry(
      p,
      async () => {
        if (++calls < 3) throw new Error('flaky');
        return 'ok';
      },
      () => ({ retry: true }),
    );
    expect(out).toBe('ok');
    expect(sleeps).toEqual([1000, 3000]);
  });

  it('stops at once on a final error and after `retries` on temporary ones', async () => {
    const p = retryPolicy({ retries: 2, sleep: async () => {} });
    let calls = 0;
    await expect(
      withRetry(
        p,
        async () => Promise.reject(new Error(`final ${++calls}`)),
        () => ({ retry: false }),
      ),
    ).rejects.toThrow('final 1');
    calls = 0;
    await expect(
      withRetry(
        p,
        async () => Promise.reject(new Error(`temp ${++calls}`)),
        () => ({ retry: true }),
      ),
    ).rejects.toThrow('temp 3');
  });

  it('waits exactly what Retry-After asks, within maxRetryAfterMs', async () => {
    const sleeps: number[] = [];
    const p = retryPolicy({ maxRetryAfterMs: 30_000, sleep: async (ms) => void sleeps.push(ms) });
    let calls = 0;
    const out = await withRetry(
      p,
      async () => {
        if (++calls < 2) throw new Error('throttled');
        return calls;
      },
      () => ({ retry: true, retryAfterMs: 5000 }),
    );
    expect(out).toBe(2);
    expect(sleeps).toEqual([5000]);
  });

  it('gives up at once on a Retry-After longer than maxRetryAfterMs', async () => {
    const sleeps: number[] = [];
    const p = retryPolicy({ maxRetryAfterMs: 30_000, sleep: async (ms) => void sleeps.push(ms) });
    let calls = 0;
    const err = await withRetry(
      p,
      async () => Promise.reject(new Error(`throttled ${++calls}`)),
      () => ({ retry: true, retryAfterMs: 3_600_000 }),
      { onRetryAfterTooLong: (e, ms) => new Error(`${(e as Error).message}, ${ms / 1000} s`) },
    ).catch((e: Error) => e);
    expect(err.message).toBe('throttled 1, 3600 s');
    expect(sleeps).toEqual([]);
  });

  it('counts retries through onRetry and stops when the signal aborts', async () => {
    const controller = new AbortController();
    const seen: number[] = [];
    const p = retryPolicy({ retries: 5, sleep: async () => controller.abort() });
    let calls = 0;
    await expect(
      withRetry(
        p,
        async () => Promise.reject(new Error(`temp ${++calls}`)),
        () => ({ retry: true }),
        { signal: controller.signal, onRetry: (n) => void seen.push(n) },
      ),
    ).rejects.toThrow('temp 2');
    expect(seen).toEqual([0]);
  });
});
