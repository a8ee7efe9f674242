// Retry policy for registry calls: jittered exponential backoff that honours Retry-After.
// The delays are computed by pure functions and the sleep is injected, so tests check the
// schedule without waiting. Defaults follow go-containerregistry (1 s, ×3, 3 retries), with a
// cap so a hostile Retry-After cannot park a Lambda for its whole 15 minutes.
import { setTimeout as delay } from 'node:timers/promises';

export interface RetryOptions {
  /** Retries after the first attempt (0 disables retrying). Default 3. */
  retries?: number;
  /** First backoff in milliseconds. Default 1000. */
  baseDelayMs?: number;
  /** Multiplier between successive backoffs. Default 3. */
  factor?: number;
  /** Upper bound of any single wait, Retry-After included. Default 60 s. */
  maxDelayMs?: number;
  /** Fraction of random spread around each backoff (0.2 = ±20 %). Default 0.2. */
  jitter?: number;
  /** Injected for tests; defaults to a real timer. */
  sleep?: (ms: number) => Promise<void>;
  /** Injected for tests; defaults to Math.random. */
  random?: () => number;
  /** Injected for tests (HTTP-date Retry-After); defaults to Date.now. */
  now?: () => number;
}

export type RetryPolicy = Required<RetryOptions>;

/** Statuses worth another try: timeouts, rate limits, gateway trouble (nginx 499, CF 522). */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([
  408, 429, 499, 500, 502, 503, 504, 522,
]);

export function retryPolicy(options: RetryOptions = {}): RetryPolicy {
  return {
    retries: options.retries ?? 3,
    baseDelayMs: options.baseDelayMs ?? 1000,
    factor: options.factor ?? 3,
    maxDelayMs: options.maxDelayMs ?? 60_000,
    jitter: options.jitter ?? 0.2,
    sleep: options.sleep ?? ((ms) => delay(ms).then(() => undefined)),
    random: options.random ?? Math.random,
    now: options.now ?? Date.now,
  };
}

/**
 * Milliseconds until a Retry-After value (delta-seconds or an HTTP date) relative to `now`;
 * undefined when absent or unreadable. A date in the past gives 0.
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // Only an HTTP date (it names a weekday/month); Date.parse would read "-5" as a year.
  if (!/[A-Za-z]/.test(v)) return undefined;
  const date = Date.parse(v);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/**
 * The wait before retry number `retry` (0-based). Retry-After, when given, wins over the
 * computed backoff; both are capped by maxDelayMs.
 */
export function retryDelay(policy: RetryPolicy, retry: number, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined) return Math.min(policy.maxDelayMs, retryAfterMs);
  const base = policy.baseDelayMs * policy.factor ** retry;
  const spread = base * policy.jitter * (2 * policy.random() - 1);
  return Math.max(0, Math.min(policy.maxDelayMs, Math.round(base + spread)));
}

/** What an attempt tells the retry loop about a failure. */
export interface RetryVerdict {
  retry: boolean;
  retryAfterMs?: number;
}

/**
 * Runs `attempt` until it succeeds, `classify` says the failure is final, or the retries are
 * spent; the last error is rethrown as is.
 */
export async function withRetry<T>(
  policy: RetryPolicy,
  attempt: (n: number) => Promise<T>,
  classify: (err: unknown) => RetryVerdict,
): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      const verdict = classify(err);
      if (!verdict.retry || n >= policy.retries) throw err;
      await policy.sleep(retryDelay(policy, n, verdict.retryAfterMs));
    }
  }
}
