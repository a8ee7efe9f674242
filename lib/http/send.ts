// The one place a request leaves the process. Every client (registry transport, App Registry,
// report webhook) describes an exchange as an `HttpRequest` and gets the status, headers and
// a streaming body back; failures without a response are rethrown as undici raised them, for
// the client to name (see classify.ts). Limits travel with each request (`RequestLimits`), so
// a new one — a connect or idle timeout, an address check — is added here once and reaches
// every client. Response bodies are read through `readBody`, which enforces `maxBodyBytes`.
import { Agent, type buildConnector, type Dispatcher, request } from 'undici';
import { errorCode } from './classify.js';
import type { HostLimiter } from './limiter.js';

/** Per-request limits; every field is optional and absent means "the dispatcher's default". */
export interface RequestLimits {
  timeouts?: {
    /**
     * Time to connect, in ms. undici sets it on the connection pool, so a client that owns its
     * dispatcher (the registry transport) applies it there; `send` itself ignores it.
     */
    connectMs?: number;
    /** Time to the response headers, in ms (undici `headersTimeout`). */
    headersMs?: number;
    /** Longest silence while the body streams, in ms (undici `bodyTimeout`). */
    bodyMs?: number;
  };
  /** Largest response body `readBody` accepts, in bytes. */
  maxBodyBytes?: number;
}

/** The three timeouts of an exchange, in ms. */
export interface Timeouts {
  connectMs: number;
  headersMs: number;
  bodyMs: number;
}

/**
 * The timeouts every client uses unless told otherwise (one policy for all of them): 10 s to
 * connect is long for any reachable registry, 30 s to the headers covers a registry that
 * computes a large manifest or token slowly, 60 s of silence mid-body is a stalled transfer.
 */
export const DEFAULT_TIMEOUTS: Readonly<Timeouts> = {
  connectMs: 10_000,
  headersMs: 30_000,
  bodyMs: 60_000,
};

/**
 * How users set each timeout: the `catalog-build` flag and the build request's field (the
 * one schema, lib/stages/build-request.ts). Messages about a timeout name both, so whoever
 * hits one knows which limit it was and how to raise it.
 */
export const TIMEOUT_SETTINGS: Readonly<
  Record<keyof Timeouts, { words: string; flag: string; field: string }>
> = {
  connectMs: { words: 'connect timeout', flag: '--connect-timeout', field: 'timeouts.connectMs' },
  headersMs: { words: 'headers timeout', flag: '--headers-timeout', field: 'timeouts.headersMs' },
  bodyMs: { words: 'idle timeout', flag: '--idle-timeout', field: 'timeouts.bodyMs' },
};

/** "the headers timeout (30000 ms; raise it with --headers-timeout or timeouts.headersMs)". */
export function describeTimeout(kind: keyof Timeouts, ms: number): string {
  const s = TIMEOUT_SETTINGS[kind];
  return `the ${s.words} (${ms} ms; raise it with ${s.flag} or the build request's ${s.field})`;
}

/** The defaults with any given fields in their place. */
export function effectiveTimeouts(given?: Partial<Timeouts>): Timeouts {
  return {
    connectMs: given?.connectMs ?? DEFAULT_TIMEOUTS.connectMs,
    headersMs: given?.headersMs ?? DEFAULT_TIMEOUTS.headersMs,
    bodyMs: given?.bodyMs ?? DEFAULT_TIMEOUTS.bodyMs,
  };
}

/**
 * Which timeout a failure without a response ran into (undici's codes), or undefined. The
 * connect timeout surfaces as UND_ERR_CONNECT_TIMEOUT; the other two by their own codes.
 */
export function timeoutKind(err: unknown): keyof Timeouts | undefined {
  const code = errorCode(err);
  return code === undefined ? undefined : TIMEOUT_CODES.get(code);
}

const TIMEOUT_CODES = new Map<string, keyof Timeouts>([
  ['UND_ERR_CONNECT_TIMEOUT', 'connectMs'],
  ['UND_ERR_HEADERS_TIMEOUT', 'headersMs'],
  ['UND_ERR_BODY_TIMEOUT', 'bodyMs'],
]);

/**
 * The connection pool a client owns, with the timeouts in force: the one place they become
 * dispatcher settings (the connect timeout can only live on the pool, the other two are also
 * sent per request by `send`). `connect` carries the TLS choices and the address pinning.
 */
export function timeoutAgent(
  timeouts: Timeouts,
  options: { connect?: buildConnector.BuildOptions; connections?: number } = {},
): Agent {
  return new Agent({
    connect: { ...options.connect, timeout: timeouts.connectMs },
    keepAliveTimeout: 10_000,
    headersTimeout: timeouts.headersMs,
    bodyTimeout: timeouts.bodyMs,
    ...(options.connections ? { connections: options.connections } : {}),
  });
}

export type HttpMethod = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
export type HttpBody = Uint8Array | string | AsyncIterable<Uint8Array> | NodeJS.ReadableStream;
export type HttpHeaders = Record<string, string | string[] | undefined>;

export interface HttpRequest {
  url: URL | string;
  method: HttpMethod;
  headers?: Record<string, string>;
  body?: HttpBody;
  /** The connection pool (TLS choices live there); default: undici's global one. */
  dispatcher?: Dispatcher;
  signal?: AbortSignal;
  limits?: RequestLimits;
  /**
   * Counted against this key of `limiter` from sending until the response headers arrive
   * (an upload holds its slot while its body is sent; a download's body streams outside).
   */
  limiter?: HostLimiter;
  limitKey?: string;
}

export interface HttpResponse {
  status: number;
  headers: HttpHeaders;
  body: Dispatcher.ResponseData['body'];
}

/** Sends one request (no retries, no redirects) within the request's limits. */
export function send(req: HttpRequest): Promise<HttpResponse> {
  const go = async (): Promise<HttpResponse> => {
    const t = req.limits?.timeouts;
    const res = await request(req.url, {
      method: req.method,
      ...(req.headers ? { headers: req.headers } : {}),
      ...(req.body !== undefined ? { body: req.body as Dispatcher.DispatchOptions['body'] } : {}),
      ...(req.dispatcher ? { dispatcher: req.dispatcher } : {}),
      ...(req.signal ? { signal: req.signal } : {}),
      ...(t?.headersMs !== undefined ? { headersTimeout: t.headersMs } : {}),
      ...(t?.bodyMs !== undefined ? { bodyTimeout: t.bodyMs } : {}),
    });
    return { status: res.statusCode, headers: res.headers as HttpHeaders, body: res.body };
  };
  if (!req.limiter) return go();
  const key = req.limitKey ?? new URL(req.url).host;
  return req.limiter.run(key, go);
}

/** Thrown by readBody when a body passes its cap (clients rename it into their family). */
export class BodyTooLargeError extends Error {
  override name = 'BodyTooLargeError';
  constructor(readonly maxBytes: number) {
    super(`response body exceeds ${maxBytes} bytes`);
  }
}

/**
 * The whole body, or BodyTooLargeError as soon as it passes `maxBytes`; the stream is
 * destroyed either way once we stop reading, so the connection is released.
 */
export async function readBody(
  body: AsyncIterable<unknown> & { destroy?: () => void },
  maxBytes = Number.POSITIVE_INFINITY,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    size += b.length;
    if (size > maxBytes) {
      body.destroy?.();
      throw new BodyTooLargeError(maxBytes);
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks, size);
}

/**
 * At most `maxBytes` of a body as text, for error messages: never fails (a body cut mid-way
 * leaves what arrived) and always releases the connection.
 */
export async function readBodyPrefix(
  body: Dispatcher.ResponseData['body'],
  maxBytes: number,
): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  try {
    for await (const chunk of body) {
      const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      chunks.push(b);
      n += b.length;
      if (n >= maxBytes) break;
    }
  } catch {
    // What we read is still worth showing.
  }
  if (!body.destroyed) body.destroy();
  return Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8');
}

/** A header's first value (undici gives arrays for repeated headers). */
export function header(headers: HttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}
