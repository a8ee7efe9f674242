// lib/http against a real local server with injected faults: what is temporary (statuses and
// network failures), the one retry loop around real requests (Retry-After honoured), the
// per-host bound, and the per-request limits (header timeout, body cap).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  errorCode,
  isTemporaryNetworkError,
  isTemporaryStatus,
} from '../../../lib/http/classify.js';
import { HostLimiter, Limiter, mapAll, mapSettled } from '../../../lib/http/limiter.js';
import { parseRetryAfter, retryPolicy, withRetry } from '../../../lib/http/retry.js';
import { BodyTooLargeError, readBody, send } from '../../../lib/http/send.js';
import { type FaultServer, startFaultServer } from '../../support/fault-server.js';

let server: FaultServer;
beforeAll(async () => {
  server = await startFaultServer();
});
afterAll(() => server.close());
beforeEach(() => {
  server.faults.length = 0;
  server.requests.length = 0;
  server.inFlight.max = 0;
});

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => expect.unreachable('expected a failure'),
    (err: unknown) => err,
  );
}

describe('classification', () => {
  it('treats throttling, timeouts and most 5xx as temporary, other statuses as final', () => {
    expect([408, 429, 499, 500, 502, 503, 504, 522].every(isTemporaryStatus)).toBe(true);
    expect([200, 400, 401, 403, 404, 409, 501, 505].some(isTemporaryStatus)).toBe(false);
  });

  it('finds the specific code under undici wrappers', () => {
    const wrapped = Object.assign(new Error('other side closed'), {
      code: 'UND_ERR_SOCKET',
      cause: { code: 'ECONNRESET' },
    });
    expect(errorCode(wrapped)).toBe('ECONNRESET');
    expect(isTemporaryNetworkError(wrapped)).toBe(true);
    expect(isTemporaryNetworkError(Object.assign(new Error('x'), { code: 'ENOTFOUND' }))).toBe(
      false,
    );
  });

  it('classifies a real reset as temporary', async () => {
    server.faults.push({ reset: true });
    const err = await failure(send({ url: server.url, method: 'GET' }));
    expect(isTemporaryNetworkError(err)).toBe(true);
  });

  it('classifies a real header timeout as temporary', async () => {
    // Its own server: the late answer must not count as in flight in the other tests.
    const slow = await startFaultServer();
    try {
      // undici checks its timers about once a second: the answer comes well after that.
      slow.faults.push({ delayMs: 3000 });
      const err = await failure(
        send({ url: slow.url, method: 'GET', limits: { timeouts: { headersMs: 100 } } }),
      );
      expect(errorCode(err)).toBe('UND_ERR_HEADERS_TIMEOUT');
      expect(isTemporaryNetworkError(err)).toBe(true);
    } finally {
      await slow.close();
    }
  });
});

describe('the retry loop around real requests', () => {
  /** GET that throws on a temporary status, carrying Retry-After, as the clients do. */
  class StatusError extends Error {
    constructor(
      readonly status: number,
      readonly retryAfterMs: number | undefined,
    ) {
      super(`HTTP ${status}`);
    }
  }
  const get = async () => {
    const res = await send({ url: server.url, method: 'GET' });
    const text = (await readBody(res.body)).toString();
    if (res.status !== 200)
      throw new StatusError(res.status, parseRetryAfter(res.headers['retry-after']));
    return text;
  };
  const classify = (err: unknown) =>
    err instanceof StatusError
      ? {
          retry: isTemporaryStatus(err.status),
          ...(err.retryAfterMs === undefined ? {} : { retryAfterMs: err.retryAfterMs }),
        }
      : { retry: isTemporaryNetworkError(err) };

  it('retries a 503, a reset and a 429 with Retry-After, then succeeds', async () => {
    server.faults.push({ status: 503 }, { reset: true }, { status: 429, retryAfter: '2' });
    const sleeps: number[] = [];
    const policy = retryPolicy({ random: () => 0.5, sleep: async (ms) => void sleeps.push(ms) });
    expect(await withRetry(policy, get, classify)).toBe('ok');
    expect(sleeps).toEqual([1000, 3000, 2000]);
    expect(server.requests).toHaveLength(4);
  });

  it('does not retry a final status', async () => {
    server.faults.push({ status: 404 });
    const policy = retryPolicy({ sleep: async () => {} });
    const err = await failure(withRetry(policy, get, classify));
    expect(err).toMatchObject({ status: 404 });
    expect(server.requests).toHaveLength(1);
  });

  it('ignores a Retry-After it cannot read ("-5") and backs off instead', async () => {
    server.faults.push({ status: 503, retryAfter: '-5' });
    const sleeps: number[] = [];
    const policy = retryPolicy({ random: () => 0.5, sleep: async (ms) => void sleeps.push(ms) });
    expect(await withRetry(policy, get, classify)).toBe('ok');
    expect(sleeps).toEqual([1000]);
  });
});

describe('limits', () => {
  it('keeps at most the per-host bound in flight, and a per-host override wins', async () => {
    const limiter = new HostLimiter({ limit: 2, perHost: { [server.host]: 3 } });
    expect(limiter.limitOf(server.host)).toBe(3);
    expect(limiter.limitOf('elsewhere.example')).toBe(2);
    for (let i = 0; i < 9; i++) server.faults.push({ delayMs: 30 });
    const answers = await Promise.all(
      Array.from({ length: 9 }, async () => {
        const res = await send({ url: server.url, method: 'GET', limiter });
        return (await readBody(res.body)).toString();
      }),
    );
    expect(answers.every((a) => a === 'ok')).toBe(true);
    expect(server.inFlight.max).toBeLessThanOrEqual(3);
    expect(server.inFlight.max).toBeGreaterThanOrEqual(1);
  });

  it('caps a response body', async () => {
    server.faults.push({ bodyBytes: 10_000 });
    const res = await send({ url: server.url, method: 'GET' });
    const err = await failure(readBody(res.body, 1000));
    expect(err).toBeInstanceOf(BodyTooLargeError);
    expect((err as Error).message).toBe('response body exceeds 1000 bytes');
  });
});

describe('Limiter', () => {
  it('runs waiters in FIFO order and never more than its limit', async () => {
    const limiter = new Limiter(2);
    const order: number[] = [];
    let peak = 0;
    await Promise.all(
      [0, 1, 2, 3, 4].map((i) =>
        limiter.run(async () => {
          peak = Math.max(peak, limiter.active);
          await new Promise((r) => setImmediate(r));
          order.push(i);
        }),
      ),
    );
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(() => new Limiter(0)).toThrow(RangeError);
  });

  it('mapSettled reports every outcome in input order; mapAll throws the first failure', async () => {
    const fn = async (n: number) => {
      if (n % 2) throw new Error(`odd ${n}`);
      return n * 10;
    };
    const settled = await mapSettled([0, 1, 2, 3], 2, fn);
    expect(settled.map((s) => (s.ok ? s.value : (s.error as Error).message))).toEqual([
      0,
      'odd 1',
      20,
      'odd 3',
    ]);
    await expect(mapAll([0, 1, 2, 3], 2, fn)).rejects.toThrow('odd 1');
    expect(await mapAll([0, 2], 2, fn)).toEqual([0, 20]);
  });
});
