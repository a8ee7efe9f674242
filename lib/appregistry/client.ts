// Client for the App Registry ("CNR", appr 0.2.6) API that oc used to download an org:
// list packages → show the default release → pull its blob (upstream-spec §3). Unlike
// upstream it runs requests in parallel (bounded), retries what a retry can cure (lib/http's
// one policy and classification), and verifies every blob's sha256 while it streams in. The endpoint keeps its path (Quay
// serves the API under /cnr); the token goes verbatim into `Authorization` and nowhere
// else — messages carry the redacted endpoint and the status line only.
import { createHash } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Dispatcher } from 'undici';
import { UsageError } from '../errors.js';
import { isTemporaryNetworkError, isTemporaryStatus } from '../http/classify.js';
import { Limiter } from '../http/limiter.js';
import {
  parseRetryAfter,
  type RetryOptions,
  type RetryPolicy,
  retryPolicy,
  retryVerdict,
  withRetry,
} from '../http/retry.js';
import {
  BodyTooLargeError,
  describeTimeout,
  effectiveTimeouts,
  type HttpResponse,
  readBody,
  send,
  type Timeouts,
  timeoutAgent,
  timeoutKind,
} from '../http/send.js';
import { redactSecrets, redactUrl, registerSecret, registerUrlSecrets } from '../redact.js';
import {
  AppRegistryAuthError,
  AppRegistryBlobLimitError,
  AppRegistryDigestMismatchError,
  AppRegistryNotFoundError,
  AppRegistryProtocolError,
  AppRegistryRequestError,
  AppRegistryTimeoutError,
  AppRegistryUnavailableError,
} from './errors.js';

export const DEFAULT_APPREGISTRY_ENDPOINT = 'https://quay.io/cnr';

/**
 * 8 requests in flight: list/show calls are small and latency-bound, so 8 turns the ~200
 * serial round trips of a large org into ~25 while staying polite to a public service
 * (go-containerregistry uses 4 jobs for much larger blobs; upstream used 1).
 */
export const DEFAULT_CONCURRENCY = 8;

export interface AppRegistryClientOptions {
  /** Base URL of the API; its path is kept (default https://quay.io/cnr). */
  endpoint?: string;
  /** Sent verbatim as the Authorization header (Quay tokens read `basic …`). */
  token?: string;
  concurrency?: number;
  /** The retry policy's numbers; defaults in APPREGISTRY_RETRY. */
  retry?: RetryOptions;
  /** An undici dispatcher to use (not closed by close()); default: an own keep-alive Agent. */
  dispatcher?: Dispatcher;
  /**
   * Connect / response-headers / body-idle timeouts (absent fields: lib/http's
   * DEFAULT_TIMEOUTS, 10 s / 30 s / 60 s); running into one is an AppRegistryTimeoutError.
   */
  timeouts?: Partial<Timeouts>;
  /** Largest blob accepted, compressed (default 256 MiB, the decoder's total cap). */
  maxBlobBytes?: number;
  signal?: AbortSignal;
}

/** One entry of the org listing. */
export interface AppRegistryPackage {
  /** `<namespace>/<repository>` as listed. */
  fullName: string;
  namespace: string;
  /** The repository name, i.e. the package's folder name under the manifests root. */
  repository: string;
  /** The default ("latest pushed") release, the one upstream downloads. */
  defaultRelease?: string;
  releases: string[];
}

/** The parts of a shown release that matter: its blob. */
export interface AppRegistryRelease {
  repository: string;
  release: string;
  /** sha256 hex, without the `sha256:` prefix. */
  digest: string;
  size?: number;
  mediaType?: string;
}

export interface PullOptions {
  /** Size announced by the show call, checked against what arrives. */
  expectedSize?: number;
  onProgress?: (bytes: number, total: number | undefined) => void;
}

/** Counters for summaries and tests. */
export interface ClientStats {
  requests: number;
  retries: number;
  blobsPulled: number;
  bytesPulled: number;
}

/**
 * 4 retries from 500 ms, doubling to at most 10 s, ±50 % jitter so clients throttled
 * together do not all come back at the same instant; a Retry-After over 60 s fails at once
 * instead of stalling a build.
 */
export const APPREGISTRY_RETRY: RetryOptions = {
  retries: 4,
  baseDelayMs: 500,
  factor: 2,
  maxDelayMs: 10_000,
  jitter: 0.5,
  maxRetryAfterMs: 60_000,
};

const HEX64 = /^[a-f0-9]{64}$/;
const MAX_JSON_BYTES = 32 * 1024 * 1024;
const MAX_ERROR_BODY_BYTES = 64 * 1024;
const USER_AGENT = 'olm-catalog-builder (appregistry)';
const TIMEOUT_WHAT: Record<keyof Timeouts, string> = {
  connectMs: 'no connection could be made',
  headersMs: 'the server accepted the connection but sent no response headers',
  bodyMs: 'the server stopped sending the body',
};
class RetryableError extends AppRegistryUnavailableError {
  override name = 'AppRegistryUnavailableError';
  retryAfterMs?: number;
}

/** Parses the endpoint, keeping scheme, host and path; throws UsageError when unusable. */
export function parseEndpoint(endpoint: string): URL {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new UsageError(
      `using app-registry endpoint ${JSON.stringify(redactUrl(endpoint))}: app-registry must be a valid app-registry endpoint`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(
      `using app-registry endpoint ${redactUrl(url)}: scheme must be http or https`,
    );
  }
  url.search = '';
  url.hash = '';
  url.pathname = url.pathname.replace(/\/+$/, '');
  return url;
}

function statusLine(code: number): string {
  return `${code} ${(STATUS_CODES[code] ?? 'UNKNOWN').toUpperCase()}`;
}

export class AppRegistryClient {
  readonly endpoint: string;
  readonly stats: ClientStats = { requests: 0, retries: 0, blobsPulled: 0, bytesPulled: 0 };
  private readonly base: URL;
  private readonly token: string | undefined;
  private readonly limiter: Limiter;
  private readonly dispatcher: Dispatcher;
  private readonly ownDispatcher: boolean;
  private readonly opts: Required<Pick<AppRegistryClientOptions, 'maxBlobBytes'>>;
  private readonly timeouts: Timeouts;
  private readonly policy: RetryPolicy;
  private readonly signal: AbortSignal | undefined;

  constructor(options: AppRegistryClientOptions = {}) {
    this.base = parseEndpoint(options.endpoint ?? DEFAULT_APPREGISTRY_ENDPOINT);
    this.endpoint = redactUrl(this.base).replace(/\/$/, '');
    this.token = options.token || undefined;
    registerSecret(this.token);
    registerUrlSecrets(this.base);
    const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
    this.limiter = new Limiter(concurrency);
    this.ownDispatcher = !options.dispatcher;
    this.timeouts = effectiveTimeouts(options.timeouts);
    this.dispatcher =
      options.dispatcher ?? timeoutAgent(this.timeouts, { connections: concurrency });
    this.opts = { maxBlobBytes: options.maxBlobBytes ?? 256 * 1024 * 1024 };
    this.policy = retryPolicy({ ...APPREGISTRY_RETRY, ...options.retry });
    this.signal = options.signal;
  }

  /** Lists the packages of an org (`GET …/api/v1/packages?media_type=helm&namespace=<org>`). */
  async listPackages(org: string): Promise<AppRegistryPackage[]> {
    assertName(org, 'org');
    const what = `listing packages of org ${org}`;
    const body = await this.getJson(what, ['packages'], { media_type: 'helm', namespace: org });
    if (!Array.isArray(body)) throw this.protocol(what, 'the listing is not a JSON array');
    return body.map((item): AppRegistryPackage => {
      const name = isObj(item) ? item['name'] : undefined;
      if (
        typeof name !== 'string' ||
        name.split('/').length !== 2 ||
        name.split('/').some((p) => p === '')
      ) {
        throw this.protocol(
          what,
          `package name should be specified in this format {namespace}/{repository}, got ${clip(JSON.stringify(name ?? null))}`,
        );
      }
      const [namespace, repository] = name.split('/') as [string, string];
      const obj = item as Record<string, unknown>;
      const releases = Array.isArray(obj['releases'])
        ? obj['releases'].filter((r): r is string => typeof r === 'string')
        : [];
      const def =
        typeof obj['default'] === 'string' && obj['default'] !== '' ? obj['default'] : undefined;
      return {
        fullName: name,
        namespace,
        repository,
        releases,
        ...(def === undefined ? {} : { defaultRelease: def }),
      };
    });
  }

  /** Shows one release (`GET …/packages/<org>/<repo>/<release>/helm`) for its blob digest. */
  async showRelease(org: string, repository: string, release: string): Promise<AppRegistryRelease> {
    assertName(org, 'org');
    assertName(repository, 'repository');
    assertName(release, 'release');
    const what = `showing release ${release} of ${org}/${repository}`;
    const body = await this.getJson(what, ['packages', org, repository, release, 'helm']);
    const content = isObj(body) ? body['content'] : undefined;
    const raw = isObj(content) ? content['digest'] : undefined;
    const digest = typeof raw === 'string' ? raw.replace(/^sha256:/, '') : '';
    if (!HEX64.test(digest))
      throw this.protocol(
        what,
        `content.digest is not a sha256 hex digest: ${clip(JSON.stringify(raw ?? null))}`,
      );
    const c = content as Record<string, unknown>;
    return {
      repository,
      release,
      digest,
      ...(typeof c['size'] === 'number' && Number.isSafeInteger(c['size']) && c['size'] >= 0
        ? { size: c['size'] }
        : {}),
      ...(typeof c['mediaType'] === 'string' ? { mediaType: c['mediaType'] } : {}),
    };
  }

  /**
   * Pulls a blob (`GET …/packages/<org>/<repo>/blobs/sha256/<hex>`), hashing it as it
   * arrives; throws AppRegistryDigestMismatchError unless it hashes to `digest`.
   */
  async pullBlob(
    org: string,
    repository: string,
    digest: string,
    options: PullOptions = {},
  ): Promise<Uint8Array> {
    let bytes: Uint8Array = new Uint8Array(0);
    await this.pullBlobTo(
      org,
      repository,
      digest,
      async (body) => {
        const chunks: Uint8Array[] = [];
        for await (const chunk of body) chunks.push(chunk);
        bytes = Buffer.concat(chunks);
      },
      options,
    );
    return bytes;
  }

  /**
   * Pulls a blob into `write` (e.g. a store's putStream) as it arrives, so no blob is ever
   * held whole: the chunks are counted against the blob cap and hashed on the way, and the
   * body fails before its end (so the writer never commits it) when the digest or the
   * announced size does not match. A retried attempt calls `write` again with a new body.
   */
  async pullBlobTo(
    org: string,
    repository: string,
    digest: string,
    write: (body: AsyncIterable<Uint8Array>) => Promise<void>,
    options: PullOptions = {},
  ): Promise<void> {
    assertName(org, 'org');
    assertName(repository, 'repository');
    const hex = digest.replace(/^sha256:/, '');
    const what = `pulling blob sha256:${hex} of ${org}/${repository}`;
    if (!HEX64.test(hex)) throw this.protocol(what, 'not a sha256 hex digest');
    const url = this.url(['packages', org, repository, 'blobs', 'sha256', hex]);
    return this.withRetries(async () => {
      const res = await this.send(what, url, 'application/x-gzip');
      const total = headerNumber(res.headers['content-length']);
      if (total !== undefined && total > this.opts.maxBlobBytes) {
        res.body.destroy();
        throw new AppRegistryBlobLimitError(
          `${what} at ${this.endpoint}: ${total} bytes exceeds the ${this.opts.maxBlobBytes}-byte cap`,
        );
      }
      // Our own verdict on the body, kept apart from how the writer reports a failed stream
      // (a store wraps it in its own error): that verdict is what is thrown.
      let failure: Error | undefined;
      let received = 0;
      let complete = false;
      const verified = async function* (this: AppRegistryClient): AsyncGenerator<Uint8Array> {
        const hash = createHash('sha256');
        try {
          for await (const chunk of res.body as AsyncIterable<Buffer>) {
            received += chunk.length;
            if (received > this.opts.maxBlobBytes) {
              throw new AppRegistryBlobLimitError(
                `${what} at ${this.endpoint}: more than ${this.opts.maxBlobBytes} bytes`,
              );
            }
            hash.update(chunk);
            options.onProgress?.(received, total ?? options.expectedSize);
            yield chunk;
          }
        } catch (err) {
          res.body.destroy();
          failure = this.networkError(what, err);
          throw failure;
        }
        const got = hash.digest('hex');
        if (got !== hex) {
          failure = new AppRegistryDigestMismatchError(
            `${what} at ${this.endpoint}: received ${received} bytes hashing to sha256:${got}`,
          );
        } else if (options.expectedSize !== undefined && received !== options.expectedSize) {
          failure = this.protocol(
            what,
            `received ${received} bytes, the release announced ${options.expectedSize}`,
          );
        }
        if (failure) throw failure;
        complete = true;
      }.call(this);
      try {
        await write(verified);
      } catch (err) {
        res.body.destroy();
        throw failure ?? err;
      }
      if (failure) throw failure;
      if (!complete) throw this.protocol(what, 'the blob was not read to its end');
      this.stats.blobsPulled++;
      this.stats.bytesPulled += received;
    });
  }

  /** Closes the keep-alive connections of the client's own dispatcher. */
  async close(): Promise<void> {
    if (this.ownDispatcher) await this.dispatcher.close();
  }

  private url(segments: string[], query?: Record<string, string>): URL {
    const url = new URL(this.base);
    url.pathname = `${this.base.pathname}/api/v1/${segments.map(encodeURIComponent).join('/')}`;
    if (query) {
      // Sorted keys, as the generated Go client encoded them.
      const params = new URLSearchParams();
      for (const k of Object.keys(query).sort()) params.set(k, query[k]!);
      url.search = params.toString();
    }
    return url;
  }

  private async getJson(
    what: string,
    segments: string[],
    query?: Record<string, string>,
  ): Promise<unknown> {
    const url = this.url(segments, query);
    return this.withRetries(async () => {
      const res = await this.send(what, url, 'application/json');
      const type = String(res.headers['content-type'] ?? '');
      let text: string;
      try {
        text = (await readBody(res.body, MAX_JSON_BYTES)).toString('utf8');
      } catch (err) {
        throw this.networkError(what, err);
      }
      if (!/\bjson\b/i.test(type))
        throw this.protocol(
          what,
          `expected a JSON response, got ${clip(JSON.stringify(type || 'no content type'))}`,
        );
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw this.protocol(what, 'the response is not valid JSON');
      }
    });
  }

  /** One request under the concurrency limit; non-2xx statuses become named errors. */
  private async send(what: string, url: URL, accept: string): Promise<HttpResponse> {
    const headers: Record<string, string> = { accept, 'user-agent': USER_AGENT };
    if (this.token) headers['authorization'] = this.token;
    let res: HttpResponse;
    try {
      this.stats.requests++;
      res = await send({
        url,
        method: 'GET',
        headers,
        dispatcher: this.dispatcher,
        limits: { timeouts: this.timeouts },
        ...(this.signal ? { signal: this.signal } : {}),
      });
    } catch (err) {
      throw this.networkError(what, err);
    }
    if (res.status >= 200 && res.status < 300) return res;
    let detail = '';
    try {
      const text = (await readBody(res.body, MAX_ERROR_BODY_BYTES)).toString('utf8');
      const parsed = JSON.parse(text) as unknown;
      const err = isObj(parsed) ? parsed['error'] : undefined;
      const msg = isObj(err) ? err['message'] : undefined;
      if (typeof msg === 'string' && msg) detail = ` ${clip(redactSecrets(msg, [this.token]))}`;
    } catch {
      res.body.destroy();
    }
    const message = `${what} at ${this.endpoint}: ${statusLine(res.status)}${detail}`;
    const code = res.status;
    if (code === 401 || code === 403) throw new AppRegistryAuthError(message);
    if (code === 404) throw new AppRegistryNotFoundError(message);
    if (isTemporaryStatus(code)) {
      const err = new RetryableError(message);
      const after = parseRetryAfter(res.headers['retry-after'], this.policy.now());
      if (after !== undefined) err.retryAfterMs = after;
      throw err;
    }
    throw new AppRegistryRequestError(message);
  }

  /** One policy (lib/http): only AppRegistryUnavailableError is worth another attempt. */
  private withRetries<T>(attempt: () => Promise<T>): Promise<T> {
    return withRetry(
      this.policy,
      () => this.limiter.run(attempt),
      (err) => retryVerdict(err instanceof AppRegistryUnavailableError, err),
      {
        ...(this.signal ? { signal: this.signal } : {}),
        onRetry: () => {
          this.stats.retries++;
        },
        onRetryAfterTooLong: (err, after) =>
          new AppRegistryUnavailableError(
            `${(err as Error).message} (Retry-After ${Math.round(after / 1000)} s is longer than we wait)`,
            { cause: err },
          ),
      },
    );
  }

  private networkError(what: string, err: unknown): Error {
    if (err instanceof AppRegistryUnavailableError || err instanceof AppRegistryBlobLimitError)
      return err;
    if (err instanceof AppRegistryProtocolError) return this.protocol(what, err.message);
    if (err instanceof BodyTooLargeError) return this.protocol(what, err.message);
    const e = err as { code?: string; name?: string; message?: string };
    if (e?.name === 'AbortError') return err as Error;
    const timeout = timeoutKind(err);
    if (timeout)
      return new AppRegistryTimeoutError(
        `${what} at ${this.endpoint}: ${TIMEOUT_WHAT[timeout]} within ${describeTimeout(timeout, this.timeouts[timeout])}`,
        { cause: err },
      );
    const code = e?.code ?? '';
    const detail = redactSecrets(`${code ? `${code} ` : ''}${e?.message ?? String(err)}`, [
      this.token,
    ]);
    const message = `${what} at ${this.endpoint}: connection failed: ${clip(detail)}`;
    if (isTemporaryNetworkError(err)) return new RetryableError(message, { cause: err });
    return new AppRegistryRequestError(message, { cause: err });
  }

  private protocol(what: string, cause: string): AppRegistryProtocolError {
    return new AppRegistryProtocolError(`${what} at ${this.endpoint}: ${cause}`);
  }
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function assertName(value: string, what: string): void {
  if (!value || value.includes('/') || value === '.' || value === '..' || value.includes('\0')) {
    throw new UsageError(`using App Registry ${what} ${JSON.stringify(value)}: not a single name`);
  }
}

function clip(text: string, max = 200): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function headerNumber(value: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return v && /^\d+$/.test(v) ? Number(v) : undefined;
}

/** What a stage's dependencies say about the App Registry (AppRegistryStageDeps satisfies it). */
export interface AppRegistryDeps {
  /** A client to reuse (shared connections, tests); otherwise one is made from the endpoint. */
  appRegistryClient?: AppRegistryClient;
  credentials?: { appRegistryToken?: string };
  signal?: AbortSignal;
  /** Connect / headers / idle timeouts (the request's `timeouts`). */
  timeouts?: Partial<Timeouts>;
}

/** Runs `fn` with the injected client, or with a client of its own that is closed after. */
export async function withAppRegistryClient<T>(
  source: { endpoint: string },
  deps: AppRegistryDeps,
  fn: (client: AppRegistryClient) => Promise<T>,
): Promise<T> {
  if (deps.appRegistryClient) return fn(deps.appRegistryClient);
  const token = deps.credentials?.appRegistryToken;
  const client = new AppRegistryClient({
    endpoint: source.endpoint,
    ...(deps.timeouts ? { timeouts: deps.timeouts } : {}),
    ...(token ? { token } : {}),
    ...(deps.signal ? { signal: deps.signal } : {}),
  });
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}
