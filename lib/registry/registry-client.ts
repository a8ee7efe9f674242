// The container-registry client the push and assemble stages use: manifests (GET/HEAD/PUT,
// every manifest media type in Accept so the registry never down-converts to schema 1), blobs
// (HEAD, verified GET, cross-repository mount, upload — monolithic PUT, or PATCH chunks above
// a threshold), counters of what crossed the wire, and upload progress. HTTP, auth and TLS live
// in transport.ts, the retry policy and the per-registry bound in lib/http; this file is the
// Docker Registry HTTP API v2 itself.
// References are structural (`{ registry, repository, tag?, digest? }`) so lib/image's
// parsed references fit without this adapter importing them.

import { createHash } from 'node:crypto';
import { type Readable, Transform, type TransformCallback } from 'node:stream';
import type { HostLimiter } from '../http/limiter.js';
import { type RetryOptions, withRetry } from '../http/retry.js';
import { BodyTooLargeError, readBody, type Timeouts, timeoutKind } from '../http/send.js';
import { sha256Digest } from '../image/digest.js';
import type { BlobOutcome } from '../image/ports.js';
import type { ResolveAll } from './address-guard.js';
import type { Keychain } from './keychain.js';
import {
  ImageDocumentLimitError,
  RegistryDigestMismatchError,
  RegistryNotFoundError,
  RegistryProtocolError,
  registryTimeoutError,
} from './registry-errors.js';
import {
  formatScope,
  type PushAccess,
  type RegistryCall,
  RegistryTransport,
  type RequestBody,
  responseHeader,
} from './transport.js';

/** What the client needs of an image reference (lib/image/reference.ts satisfies it). */
export interface RepositoryRef {
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

/** Every manifest type we read, Docker v2s2 and OCI, single and multi-platform. */
export const MANIFEST_MEDIA_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
] as const;

export interface UploadProgress {
  registry: string;
  repository: string;
  digest: string;
  /** Bytes sent so far for this blob (restarts begin again at 0). */
  bytes: number;
  total: number;
}

/** Blobs by what it took to get them to the destination, with their bytes. */
export interface BlobCounters {
  uploaded: number;
  mounted: number;
  present: number;
  bytesUploaded: number;
  bytesMounted: number;
  bytesPresent: number;
}

export function emptyBlobCounters(): BlobCounters {
  return {
    uploaded: 0,
    mounted: 0,
    present: 0,
    bytesUploaded: 0,
    bytesMounted: 0,
    bytesPresent: 0,
  };
}

/** Adds one blob to the counters under its outcome. */
export function countBlob(counters: BlobCounters, outcome: BlobOutcome, size: number): void {
  if (outcome === 'uploaded') {
    counters.uploaded++;
    counters.bytesUploaded += size;
  } else if (outcome === 'mounted') {
    counters.mounted++;
    counters.bytesMounted += size;
  } else {
    counters.present++;
    counters.bytesPresent += size;
  }
}

export interface RegistryClientOptions {
  keychain?: Keychain;
  /** Plain HTTP allowed and TLS unverified, for container registries only. */
  insecure?: boolean;
  /** Extra trusted CA certificates (PEM text), added to the system roots. */
  caCertificates?: string[];
  /** Concurrent requests per registry (`--max-per-registry`). Default 4. */
  maxPerRegistry?: number;
  /** A per-registry bound shared with other clients of the same build (wins over maxPerRegistry). */
  limiter?: HostLimiter;
  userAgent?: string;
  retry?: RetryOptions;
  onProgress?: (progress: UploadProgress) => void;
  /** Blobs larger than this go up in PATCH chunks. Default 64 MiB. */
  chunkedThreshold?: number;
  /** PATCH chunk size. Default 8 MiB. */
  chunkSize?: number;
  /** How names resolve for the address guard and connections (tests fake metadata names). */
  resolveAll?: ResolveAll;
  /** Connect / headers / idle timeouts (absent fields: lib/http's DEFAULT_TIMEOUTS). */
  limits?: { timeouts?: Partial<Timeouts> };
  /** Largest manifest or config read (default DEFAULT_MAX_MANIFEST_BYTES). */
  maxManifestBytes?: number;
}

/** A blob source: bytes in memory, or a factory of fresh streams (called again on restarts). */
export type BlobBody = Uint8Array | (() => Readable | AsyncIterable<Uint8Array>);

export interface Manifest {
  bytes: Uint8Array;
  mediaType: string;
  digest: string;
}

/** One definition, in the image ports. */
export type { BlobOutcome };

/**
 * Largest image manifest, index or config read (`--max-manifest-size`): real ones are a few
 * kB (a 100-platform index is ~50 kB), distribution itself refuses manifests over 4 MiB.
 */
export const DEFAULT_MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/**
 * Largest blob read whole into memory (configs, bundle-image layers); big layers are always
 * streamed. A 3 GiB "config" stops here with a named error instead of filling the heap.
 */
const WHOLE_BLOB_LIMIT = 256 * 1024 * 1024;
const PROGRESS_SLICE = 1024 * 1024;
/** Monolithic PUT up to here: one request is fastest and every registry takes it. */
const DEFAULT_CHUNKED_THRESHOLD = 64 * 1024 * 1024;
const DEFAULT_CHUNK_SIZE = 8 * 1024 * 1024;

/** Re-exported for callers of the client; one implementation in lib/image. */
export { sha256Digest };

/** "host/repo:tag", "host/repo@sha256:…" for messages. */
export function formatRef(ref: RepositoryRef): string {
  const base = `${ref.registry}/${ref.repository}`;
  if (ref.digest) return `${base}@${ref.digest}`;
  return ref.tag ? `${base}:${ref.tag}` : base;
}

const pullScope = (repository: string) => formatScope(repository, ['pull']);
const pushScope = (repository: string) => formatScope(repository, ['pull', 'push']);

function checkDigest(digest: string): void {
  if (!/^sha256:[a-f0-9]{64}$/.test(digest)) {
    throw new RegistryProtocolError(`checking digest ${digest}: only sha256 digests are supported`);
  }
}

/** Adds a query parameter to an upload Location without re-encoding what is there. */
function withQuery(location: string, key: string, value: string): string {
  const hashless = location.split('#')[0]!;
  return `${hashless}${hashless.includes('?') ? '&' : '?'}${key}=${encodeURIComponent(value)}`;
}

export class RegistryClient {
  readonly transport: RegistryTransport;
  private readonly onProgress: ((p: UploadProgress) => void) | undefined;
  private readonly chunkedThreshold: number;
  private readonly chunkSize: number;
  private readonly maxManifestBytes: number;
  /** Upload sessions opened by a mount answered 202, reused by the following upload. */
  private readonly pendingUploads = new Map<string, string>();

  constructor(options: RegistryClientOptions = {}) {
    this.transport = new RegistryTransport(options);
    this.onProgress = options.onProgress;
    this.chunkedThreshold = options.chunkedThreshold ?? DEFAULT_CHUNKED_THRESHOLD;
    this.chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
    this.maxManifestBytes = options.maxManifestBytes ?? DEFAULT_MAX_MANIFEST_BYTES;
  }

  /** Releases the connection pool. */
  close(): Promise<void> {
    return this.transport.close();
  }

  /** Checks that the registry answers the v2 API (and learns its auth scheme). */
  async ping(registry: string): Promise<void> {
    await this.transport.session(registry);
  }

  /**
   * Checks, before any work, that `ref` could be pushed, as far as the registry can tell
   * without a write: it answers, takes our credentials (RegistryAuthError otherwise; none at
   * all for a registry that asks is said so) and — where its token server says so (a JWT
   * `access` claim) — they have push scope on the repository (RegistryScopeError "… lack push
   * scope …" otherwise). Returns what could be learnt.
   */
  checkPushAccess(ref: RepositoryRef): Promise<PushAccess> {
    return this.transport.checkScope(
      ref.registry,
      ref.repository,
      ['pull', 'push'],
      formatRef(ref),
    );
  }

  // ---- manifests -------------------------------------------------------------------------

  /** GET by tag or digest; content is verified against the digest asked for or announced. */
  getManifest(
    ref: RepositoryRef,
    accept: readonly string[] = MANIFEST_MEDIA_TYPES,
  ): Promise<Manifest> {
    const subject = formatRef(ref);
    return withRetry(
      this.transport.policy,
      async () => {
        const res = await this.transport.sendOnce(this.manifestCall(ref, 'GET', accept));
        const bytes = await readAll(
          res.body,
          this.maxManifestBytes,
          `getting manifest ${subject}`,
          this.transport.timeouts,
          manifestLimitError,
        );
        const digest = sha256Digest(bytes);
        const announced = responseHeader(res.headers, 'docker-content-digest');
        const expected = ref.digest ?? (announced?.startsWith('sha256:') ? announced : undefined);
        if (expected && expected !== digest) {
          throw new RegistryDigestMismatchError(
            `getting manifest ${subject}: content has digest ${digest}, expected ${expected}`,
            { url: res.url },
          );
        }
        const mediaType = mediaTypeOf(responseHeader(res.headers, 'content-type'), bytes);
        return { bytes, mediaType, digest };
      },
      (err) => this.transport.verdict(err),
    );
  }

  /** HEAD by tag or digest: media type, digest and size, or undefined when absent. */
  async headManifest(
    ref: RepositoryRef,
  ): Promise<{ mediaType: string; digest: string; size: number } | undefined> {
    try {
      const res = await this.transport.send(this.manifestCall(ref, 'HEAD', MANIFEST_MEDIA_TYPES));
      await res.body.dump();
      const digest = responseHeader(res.headers, 'docker-content-digest') ?? ref.digest;
      if (!digest) {
        throw new RegistryProtocolError(
          `checking manifest ${formatRef(ref)}: no Docker-Content-Digest`,
          {
            url: res.url,
          },
        );
      }
      return {
        mediaType: (responseHeader(res.headers, 'content-type') ?? '').split(';')[0]!.trim(),
        digest,
        size: Number(responseHeader(res.headers, 'content-length') ?? '0'),
      };
    } catch (err) {
      if (err instanceof RegistryNotFoundError) return undefined;
      throw err;
    }
  }

  /** PUT under the tag (or the digest when there is no tag); returns the content digest. */
  async putManifest(ref: RepositoryRef, bytes: Uint8Array, mediaType: string): Promise<string> {
    const digest = sha256Digest(bytes);
    if (ref.digest && ref.digest !== digest) {
      throw new RegistryDigestMismatchError(
        `pushing manifest ${formatRef(ref)}: content has digest ${digest}, reference says ${ref.digest}`,
      );
    }
    const target = ref.tag ?? digest;
    const subject = `${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : `@${digest}`}`;
    const res = await this.transport.send({
      action: 'pushing manifest',
      subject,
      registry: ref.registry,
      method: 'PUT',
      url: `/v2/${ref.repository}/manifests/${target}`,
      headers: { 'content-type': mediaType },
      body: () => bytes,
      scopes: [pushScope(ref.repository)],
      expect: [201, 200],
      idempotent: true,
    });
    await res.body.dump();
    const announced = responseHeader(res.headers, 'docker-content-digest');
    if (announced?.startsWith('sha256:') && announced !== digest) {
      throw new RegistryDigestMismatchError(
        `pushing manifest ${subject}: registry stored ${announced}, we sent ${digest}`,
        { url: res.url },
      );
    }
    return digest;
  }

  // ---- blobs -----------------------------------------------------------------------------

  /** HEAD a blob: its size when the repository has it, undefined otherwise. */
  blobExists(registry: string, repository: string, digest: string): Promise<number | undefined> {
    return this.headBlob(registry, repository, digest);
  }

  /** The whole blob in memory, verified against its digest. */
  async getBlob(
    registry: string,
    repository: string,
    digest: string,
    limit = WHOLE_BLOB_LIMIT,
  ): Promise<Uint8Array> {
    const stream = await this.getBlobStream(registry, repository, digest);
    return readAll(
      stream,
      limit,
      `getting blob ${registry}/${repository}@${digest}`,
      this.transport.timeouts,
    );
  }

  /**
   * An image config: read whole like a manifest, so under the same cap (`maxManifestBytes`,
   * 4 MiB by default) rather than the 256 MiB whole-blob one. A 3 GiB "config" stops after
   * at most that many bytes with an ImageDocumentLimitError saying how to raise the cap.
   */
  async getConfig(registry: string, repository: string, digest: string): Promise<Uint8Array> {
    const stream = await this.getBlobStream(registry, repository, digest);
    return readAll(
      stream,
      this.maxManifestBytes,
      `getting config ${registry}/${repository}@${digest}`,
      this.transport.timeouts,
      manifestLimitError,
    );
  }

  /**
   * A stream of the blob that fails with RegistryDigestMismatchError at its end when the
   * bytes do not hash to `digest` (consumers must not trust data before the stream ends).
   */
  async getBlobStream(registry: string, repository: string, digest: string): Promise<Readable> {
    checkDigest(digest);
    const subject = `${registry}/${repository}@${digest}`;
    const res = await this.sendBlobRead('GET', registry, repository, digest);
    const hash = createHash('sha256');
    const verify = new Transform({
      transform(chunk: Buffer, _enc, cb: TransformCallback) {
        hash.update(chunk);
        cb(null, chunk);
      },
      flush(cb: TransformCallback) {
        const got = `sha256:${hash.digest('hex')}`;
        if (got !== digest) {
          cb(
            new RegistryDigestMismatchError(`getting blob ${subject}: content has digest ${got}`, {
              url: res.url,
            }),
          );
        } else cb();
      },
    });
    res.body.on('error', (err) => verify.destroy(err));
    // A reader that stops early (a cap reached, a failed upload) destroys `verify`; `pipe`
    // alone would leave the response streaming into a full buffer, its connection held, and
    // the agent's close waiting on it for ever.
    verify.on('close', () => {
      if (!res.body.destroyed) res.body.destroy();
    });
    return res.body.pipe(verify);
  }

  /**
   * The push path for one blob: HEAD → mount from `mountFrom` (same registry) → upload.
   * Says which happened (the push stage counts the outcomes).
   */
  async pushBlob(
    registry: string,
    repository: string,
    blob: { digest: string; size: number },
    source: { body: BlobBody; mountFrom?: string },
  ): Promise<BlobOutcome> {
    const existing = await this.headBlob(registry, repository, blob.digest);
    if (existing !== undefined) {
      return 'present';
    }
    if (source.mountFrom && source.mountFrom !== repository) {
      if (await this.mount(registry, repository, blob.digest, source.mountFrom)) return 'mounted';
    }
    await this.uploadBlob(registry, repository, blob.digest, blob.size, source.body);
    return 'uploaded';
  }

  // ---- internals ---------------------------------------------------------------------------

  /** GET or HEAD of a manifest by tag or digest, with every accepted type in Accept. */
  private manifestCall(
    ref: RepositoryRef,
    method: 'GET' | 'HEAD',
    accept: readonly string[],
  ): RegistryCall {
    return {
      action: method === 'GET' ? 'getting manifest' : 'checking manifest',
      subject: formatRef(ref),
      registry: ref.registry,
      method,
      url: `/v2/${ref.repository}/manifests/${this.manifestReference(ref)}`,
      headers: { accept: accept.join(', ') },
      scopes: [pullScope(ref.repository)],
      expect: [200],
      idempotent: true,
    };
  }

  private manifestReference(ref: RepositoryRef): string {
    const r = ref.digest ?? ref.tag;
    if (!r)
      throw new RegistryProtocolError(
        `getting manifest ${formatRef(ref)}: reference has no tag or digest`,
      );
    return r;
  }

  /** GET or HEAD of a blob with a pull scope: the one shape both reads share. */
  private sendBlobRead(
    method: 'GET' | 'HEAD',
    registry: string,
    repository: string,
    digest: string,
  ) {
    return this.transport.send({
      action: method === 'GET' ? 'getting blob' : 'checking blob',
      subject: `${registry}/${repository}@${digest}`,
      registry,
      method,
      url: `/v2/${repository}/blobs/${digest}`,
      scopes: [pullScope(repository)],
      expect: [200],
      idempotent: true,
    });
  }

  private async headBlob(
    registry: string,
    repository: string,
    digest: string,
  ): Promise<number | undefined> {
    checkDigest(digest);
    try {
      const res = await this.sendBlobRead('HEAD', registry, repository, digest);
      await res.body.dump();
      return Number(responseHeader(res.headers, 'content-length') ?? '0');
    } catch (err) {
      if (err instanceof RegistryNotFoundError) return undefined;
      throw err;
    }
  }

  private async mount(
    registry: string,
    repository: string,
    digest: string,
    fromRepository: string,
  ): Promise<boolean> {
    checkDigest(digest);
    const res = await this.transport.send({
      action: 'mounting blob',
      subject: `${registry}/${repository}@${digest} from ${fromRepository}`,
      registry,
      method: 'POST',
      url: `/v2/${repository}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(fromRepository)}`,
      scopes: [pushScope(repository), pullScope(fromRepository)],
      expect: [201, 202],
      // A repeated mount request is harmless: at worst another upload session is opened.
      idempotent: true,
    });
    await res.body.dump();
    if (res.status === 201) {
      return true;
    }
    const location = responseHeader(res.headers, 'location');
    if (location)
      this.pendingUploads.set(
        `${registry}/${repository}@${digest}`,
        new URL(location, res.url).href,
      );
    return false;
  }

  /**
   * Uploads a blob: POST then monolithic PUT ?digest=, or PATCH chunks above the threshold.
   * A temporary failure restarts the whole upload (the body factory is called again).
   */
  async uploadBlob(
    registry: string,
    repository: string,
    digest: string,
    size: number,
    body: BlobBody,
  ): Promise<void> {
    checkDigest(digest);
    const key = `${registry}/${repository}@${digest}`;
    const subject = key;
    const scopes = [pushScope(repository)];
    await withRetry(
      this.transport.policy,
      async () => {
        // A session left by a 202 mount is used once; a restart opens a fresh one.
        let location = this.pendingUploads.get(key);
        this.pendingUploads.delete(key);
        // The source is opened before our requests take a slot: a copy from this same
        // registry then never waits for a slot its own upload holds.
        const source = await primed(typeof body === 'function' ? body() : body);
        if (!location) location = await this.startUpload(registry, repository, subject, scopes);
        if (size > this.chunkedThreshold) {
          await this.uploadChunked(
            registry,
            repository,
            digest,
            size,
            source,
            location,
            subject,
            scopes,
          );
        } else {
          const res = await this.transport.sendOnce({
            action: 'uploading blob',
            subject,
            registry,
            method: 'PUT',
            url: withQuery(location, 'digest', digest),
            headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
            body: () => this.progressBody(registry, repository, digest, size, source, 0),
            scopes,
            expect: [201],
            idempotent: false,
          });
          await res.body.dump();
        }
      },
      (err) => this.transport.verdict(err),
    );
  }

  private async startUpload(
    registry: string,
    repository: string,
    subject: string,
    scopes: string[],
  ): Promise<string> {
    const res = await this.transport.sendOnce({
      action: 'starting upload of blob',
      subject,
      registry,
      method: 'POST',
      url: `/v2/${repository}/blobs/uploads/`,
      headers: { 'content-length': '0' },
      scopes,
      expect: [202],
      idempotent: false,
    });
    await res.body.dump();
    const location = responseHeader(res.headers, 'location');
    if (!location) {
      throw new RegistryProtocolError(`starting upload of blob ${subject}: 202 without Location`, {
        url: res.url,
      });
    }
    return new URL(location, res.url).href;
  }

  private async uploadChunked(
    registry: string,
    repository: string,
    digest: string,
    size: number,
    source: Uint8Array | Readable | AsyncIterable<Uint8Array>,
    firstLocation: string,
    subject: string,
    scopes: string[],
  ): Promise<void> {
    let location = firstLocation;
    let offset = 0;
    for await (const chunk of chunksOf(source, this.chunkSize)) {
      const start = offset;
      const res = await this.transport.sendOnce({
        action: 'uploading blob',
        subject,
        registry,
        method: 'PATCH',
        url: location,
        headers: {
          'content-type': 'application/octet-stream',
          'content-length': String(chunk.length),
          'content-range': `${start}-${start + chunk.length - 1}`,
        },
        body: () => this.progressBody(registry, repository, digest, size, chunk, start),
        scopes,
        expect: [202],
        idempotent: false,
      });
      await res.body.dump();
      offset += chunk.length;
      const next = responseHeader(res.headers, 'location');
      if (!next)
        throw new RegistryProtocolError(`uploading blob ${subject}: 202 without Location`, {
          url: res.url,
        });
      location = new URL(next, res.url).href;
    }
    if (offset !== size) {
      throw new RegistryProtocolError(
        `uploading blob ${subject}: source gave ${offset} bytes, expected ${size}`,
      );
    }
    const res = await this.transport.sendOnce({
      action: 'uploading blob',
      subject,
      registry,
      method: 'PUT',
      url: withQuery(location, 'digest', digest),
      headers: { 'content-length': '0' },
      scopes,
      expect: [201],
      idempotent: false,
    });
    await res.body.dump();
  }

  /** The body as an async iterable that reports progress as slices are handed to undici. */
  private progressBody(
    registry: string,
    repository: string,
    digest: string,
    total: number,
    source: Uint8Array | Readable | AsyncIterable<Uint8Array>,
    startAt: number,
  ): RequestBody {
    const onProgress = this.onProgress;
    if (!onProgress && !(source instanceof Uint8Array)) return source as RequestBody;
    if (!onProgress) return source as Uint8Array;
    return (async function* () {
      let sent = startAt;
      const iterable =
        source instanceof Uint8Array
          ? slices(source, PROGRESS_SLICE)
          : (source as AsyncIterable<Uint8Array>);
      for await (const chunk of iterable) {
        yield chunk;
        sent += chunk.length;
        onProgress({ registry, repository, digest, bytes: sent, total });
      }
    })();
  }
}

/**
 * The source with its first chunk already read (so whatever it opens — a registry GET — has
 * been answered), yielding that chunk again first.
 */
async function primed(
  source: Uint8Array | Readable | AsyncIterable<Uint8Array>,
): Promise<Uint8Array | AsyncIterable<Uint8Array>> {
  if (source instanceof Uint8Array) return source;
  const it = (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
  const first = await it.next();
  return (async function* () {
    if (first.done) return;
    yield first.value;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  })();
}

function* slices(bytes: Uint8Array, size: number): Generator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size)
    yield bytes.subarray(i, Math.min(bytes.length, i + size));
}

/**
 * Re-cuts any byte source into chunks of exactly `size` bytes (the last may be shorter). The
 * pieces of a chunk are joined once, when it is full: one chunk in memory, each byte copied once.
 */
async function* chunksOf(
  source: Uint8Array | Readable | AsyncIterable<Uint8Array>,
  size: number,
): AsyncGenerator<Uint8Array> {
  if (source instanceof Uint8Array) {
    yield* slices(source, size);
    return;
  }
  let parts: Uint8Array[] = [];
  let held = 0;
  for await (const piece of source as AsyncIterable<Uint8Array>) {
    let rest = piece;
    while (held + rest.length >= size) {
      const take = size - held;
      parts.push(rest.subarray(0, take));
      yield Buffer.concat(parts, size);
      parts = [];
      held = 0;
      rest = rest.subarray(take);
    }
    if (rest.length > 0) {
      parts.push(rest);
      held += rest.length;
    }
  }
  if (held > 0) yield Buffer.concat(parts, held);
}

/**
 * The whole body, or a RegistryProtocolError naming `what` past `limit` bytes, or a
 * RegistryTimeoutError naming the idle timeout when the body stalls.
 */
async function readAll(
  stream: AsyncIterable<unknown> & { destroy?: () => void },
  limit: number,
  what: string,
  timeouts: Timeouts,
  tooLarge: (what: string, limit: number) => Error = (w, l) =>
    new RegistryProtocolError(`${w}: larger than ${l} bytes`),
): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readBody(stream, limit));
  } catch (err) {
    if (err instanceof BodyTooLargeError) throw tooLarge(what, limit);
    if (timeoutKind(err) === 'bodyMs') {
      const [action, ...subject] = what.split(' ');
      throw registryTimeoutError(action!, subject.join(' '), 'bodyMs', undefined, err, timeouts);
    }
    throw err;
  }
}
function manifestLimitError(what: string, limit: number): ImageDocumentLimitError {
  return new ImageDocumentLimitError(
    `${what}: larger than ${limit} bytes, the cap on manifests and configs (raise it with --max-manifest-size or the build request's maxManifestBytes)`,
  );
}

/** Content-Type without parameters, or the `mediaType` field of the JSON when it is absent. */
function mediaTypeOf(contentType: string | undefined, bytes: Uint8Array): string {
  const ct = contentType?.split(';')[0]?.trim();
  if (ct && ct !== 'application/json' && ct !== 'text/plain') return ct;
  try {
    const mt = (JSON.parse(Buffer.from(bytes).toString('utf8')) as { mediaType?: unknown })
      .mediaType;
    if (typeof mt === 'string') return mt;
  } catch {
    // fall through
  }
  return ct ?? 'application/octet-stream';
}
