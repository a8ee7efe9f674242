// The one retry policy of every HTTP client (registry, App Registry, report webhook): capped
// exponential backoff with symmetric jitter, and Retry-After honoured exactly — unless it asks
// for longer than `maxRetryAfterMs`, when we give up at once rather than park a build (or a
// Lambda) for an hour. Delays are computed by pure functions and the sleep is injected, so
// tests check the schedule without waiting. Defaults follow go-containerregistry (1 s, ×3,
// 3 retries); each client passes its own numbers, never its own loop.
import { setTimeout as delay } from 'node:timers/promises';

export interface RetryOptions {
  /** Retries after the first attempt (0 disables retrying). Default 3. */
  retries?: number;
  /** First backoff in milliseconds. Default 1000. */
  baseDelayMs?: number;
  /** Multiplier between successive backoffs. Default 3. */
  factor?: number;
  /** Upper bound of a computed backoff. Default 60 s. */
  maxDelayMs?: number;
  /** A Retry-After longer than this ends the retries at once. Default 60 s. */
  maxRetryAfterMs?: number;
  /** Fraction of random spread around each backoff (0.2 = ±20 %). Default 0.2. */
  jitter?: number;
  /** Injected for tests; defaults to a real timer (cut short by `signal`). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Injected for tests; defaults to Math.random. */
  random?: () => number;
  /** Injected for tests (HTTP-date Retry-After, token expiry); defaults to Date.now. */
  now?: () => number;
}

export type RetryPolicy = Required<RetryOptions>;

export function retryPolicy(options: RetryOptions = {}): RetryPolicy {
  return {
    retries: options.retries ?? 3,
    baseDelayMs: options.baseDelayMs ?? 1000,
    factor: options.factor ?? 3,
    maxDelayMs: options.maxDelayMs ?? 60_000,
    maxRetryAfterMs: options.maxRetryAfterMs ?? 60_000,
    jitter: options.jitter ?? 0.2,
    sleep:
      options.sleep ??
      ((ms, signal) => delay(ms, undefined, signal ? { signal } : {}).then(() => undefined)),
    random: options.random ?? Math.random,
    now: options.now ?? Date.now,
  };
}

/**
 * Milliseconds until a Retry-After value (delta-seconds or an HTTP date) relative to `now`;
 * undefined when absent or unreadable ("-5", "soon"). A date in the past gives 0.
 */
export function parseRetryAfter(
  value: string | string[] | undefined,
  now: number = Date.now(),
): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined) return undefined;
  const v = raw.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // Only an HTTP date (it names a weekday/month); Date.parse would read "-5" as a year.
  if (!/[A-Za-z]/.test(v)) return undefined;
  const date = Date.parse(v);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** The computed wait before retry number `retry` (0-based), jittered and capped. */
export function retryDelay(policy: RetryPolicy, retry: number): number {
  const base = policy.baseDelayMs * policy.factor ** retry;
  const spread = base * policy.jitter * (2 * policy.random() - 1);
  return Math.max(0, Math.min(policy.maxDelayMs, Math.round(base + spread)));
}

/** What a failed attempt tells the retry loop. */
export interface RetryVerdict {
  retry: boolean;
  /** The server's Retry-After, in milliseconds, when it sent one. */
  retryAfterMs?: number;
}

/**
 * The verdict for `err`, carrying its `retryAfterMs` when it has one: clients attach the
 * parsed Retry-After to the error they throw, under that one property name.
 */
export function retryVerdict(retry: boolean, err?: unknown): RetryVerdict {
  const ms = (err as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
  return retry && typeof ms === 'number' ? { retry, retryAfterMs: ms } : { retry };
}

export interface RetryHooks {
  /** Stops the waiting and the retries. */
  signal?: AbortSignal;
  /** Called before each wait (counters, logs). */
  onRetry?: (retry: number, waitMs: number, err: unknown) => void;
  /** The error to throw when Retry-After exceeds maxRetryAfterMs (default: the error as is). */
  onRetryAfterTooLong?: (err: unknown, retryAfterMs: number) => unknown;
}

/**
 * Runs `attempt` until it succeeds, `classify` says the failure is final, the retries are
 * spent or the signal aborts; the last error is rethrown as is.
 */
export async function withRetry<T>(
  policy: RetryPolicy,
  attempt: (n: number) => Promise<T>,
  classify: (err: unknown) => RetryVerdict,
  hooks: RetryHooks = {},
): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      const verdict = classify(err);
      if (!verdict.retry || n >= policy.retries || hooks.signal?.aborted) throw err;
      const after = verdict.retryAfterMs;
      if (after !== undefined && after > policy.maxRetryAfterMs)
        throw hooks.onRetryAfterTooLong ? hooks.onRetryAfterTooLong(err, after) : err;
      const wait = after ?? retryDelay(policy, n);
      hooks.onRetry?.(n, wait, err);
      await policy.sleep(wait, hooks.signal);
    }
  }
}
