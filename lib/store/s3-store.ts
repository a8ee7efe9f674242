// The store as an S3 bucket (the Lambda stages' store). Same keys as the local directory;
// an optional prefix lets several deployments share a bucket. Streams go through
// lib-storage's Upload (multipart past 8 MiB) so a large blob is never held in memory.
// Conditional puts send `If-None-Match: *`; some S3-compatible servers ignore that header,
// so the store first HEADs the key, which keeps "create if absent" correct on them too
// (the remaining race only writes identical content-addressed bytes twice).
// A move is a server-side CopyObject then a delete: S3 copies up to 5 GiB in one call, which
// bounds the blobs a move can take (a catalog layer is far below it).
import type { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { StoreError } from '../errors.js';
import { isTemporaryNetworkError, isTemporaryStatus } from '../http/classify.js';
import {
  assertValidKey,
  type ObjectInfo,
  type PutOptions,
  type Store,
  StoreNotFoundError,
  StoreUnavailableError,
} from './store.js';

export interface S3StoreOptions {
  bucket: string;
  /** Key prefix inside the bucket ("" or "something/"), for sharing one bucket. */
  prefix?: string;
  /** An S3-compatible endpoint (s3rver, MinIO); implies path-style addressing. */
  endpoint?: string;
  region?: string;
  /** A ready client (tests, custom credentials); `endpoint`/`region` are then ignored. */
  client?: S3Client;
}

const NOT_FOUND_CODES = new Set(['NoSuchKey', 'NotFound', 'NoSuchBucket']);
const PRECONDITION_CODES = new Set(['PreconditionFailed', 'ConditionalRequestConflict']);
/** Builds an S3 client for the options: path-style whenever an endpoint is given. */
export function s3ClientFor(options: Pick<S3StoreOptions, 'endpoint' | 'region'>): S3Client {
  const config: S3ClientConfig = {};
  if (options.region) config.region = options.region;
  if (options.endpoint) {
    config.endpoint = options.endpoint;
    config.forcePathStyle = true;
  }
  return new S3Client(config);
}

export class S3Store implements Store {
  readonly location: string;
  readonly client: S3Client;
  readonly bucket: string;
  private readonly prefix: string;

  constructor(options: S3StoreOptions) {
    if (!options.bucket) throw new StoreError('opening S3 store: no bucket name given');
    const prefix = options.prefix ?? '';
    if (prefix && !prefix.endsWith('/'))
      throw new StoreError(`opening S3 store: prefix ${prefix} must end with "/"`);
    this.bucket = options.bucket;
    this.prefix = prefix;
    this.client = options.client ?? s3ClientFor(options);
    this.location = `s3://${options.bucket}${prefix ? `/${prefix.slice(0, -1)}` : ''}`;
  }

  private objectKey(key: string): string {
    assertValidKey(key);
    return this.prefix + key;
  }

  async put(key: string, body: Uint8Array | string, options?: PutOptions): Promise<boolean> {
    const Key = this.objectKey(key);
    if (options?.ifNoneMatch && (await this.head(key))) return false;
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key,
          Body: body,
          ContentType: options?.contentType,
          IfNoneMatch: options?.ifNoneMatch ? '*' : undefined,
        }),
      );
      return true;
    } catch (err) {
      if (options?.ifNoneMatch && PRECONDITION_CODES.has(sdkErrorCode(err))) return false;
      throw this.mapError('writing', key, err);
    }
  }

  async putStream(key: string, body: Readable, options?: PutOptions): Promise<boolean> {
    const Key = this.objectKey(key);
    if (options?.ifNoneMatch && (await this.head(key))) {
      body.resume(); // drain what the caller opened; nothing is written
      return false;
    }
    try {
      const upload = new Upload({
        client: this.client,
        params: {
          Bucket: this.bucket,
          Key,
          Body: body,
          ContentType: options?.contentType,
          IfNoneMatch: options?.ifNoneMatch ? '*' : undefined,
        },
      });
      await upload.done();
      return true;
    } catch (err) {
      if (options?.ifNoneMatch && PRECONDITION_CODES.has(sdkErrorCode(err))) return false;
      throw this.mapError('writing', key, err);
    }
  }

  /** The object's body stream; absent keys become StoreNotFoundError. */
  private async body(key: string) {
    const Key = this.objectKey(key);
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key }));
      if (!out.Body) throw new Error('empty response body');
      return out.Body;
    } catch (err) {
      throw this.mapError('reading', key, err);
    }
  }

  async get(key: string): Promise<Uint8Array> {
    const body = await this.body(key);
    try {
      return await body.transformToByteArray();
    } catch (err) {
      throw this.mapError('reading', key, err);
    }
  }

  async getStream(key: string): Promise<Readable> {
    return (await this.body(key)) as Readable;
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const Key = this.objectKey(key);
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }));
      return { key, size: out.ContentLength ?? 0 };
    } catch (err) {
      // A HEAD has no body: a missing key or bucket shows up as a bare 404.
      if (NOT_FOUND_CODES.has(sdkErrorCode(err)) || httpStatus(err) === 404) return undefined;
      throw this.mapError('checking', key, err);
    }
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    const out: ObjectInfo[] = [];
    let ContinuationToken: string | undefined;
    try {
      do {
        const page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.prefix + prefix,
            ContinuationToken,
          }),
        );
        for (const o of page.Contents ?? []) {
          if (o.Key) out.push({ key: o.Key.slice(this.prefix.length), size: o.Size ?? 0 });
        }
        ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (ContinuationToken);
    } catch (err) {
      throw this.mapError('listing', `${prefix}*`, err);
    }
    // S3 already answers in UTF-8 byte order; sort anyway so every store agrees exactly.
    return out.sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
  }

  async delete(key: string): Promise<void> {
    const Key = this.objectKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }));
    } catch (err) {
      if (NOT_FOUND_CODES.has(sdkErrorCode(err))) return;
      throw this.mapError('deleting', key, err);
    }
  }

  async move(
    from: string,
    to: string,
    options?: Pick<PutOptions, 'ifNoneMatch'>,
  ): Promise<boolean> {
    const source = this.objectKey(from);
    const Key = this.objectKey(to);
    let written = false;
    if (!options?.ifNoneMatch || !(await this.head(to))) {
      try {
        await this.client.send(
          new CopyObjectCommand({
            Bucket: this.bucket,
            Key,
            CopySource: `${this.bucket}/${source.split('/').map(encodeURIComponent).join('/')}`,
          }),
        );
        written = true;
      } catch (err) {
        throw this.mapError('moving', `${from} to ${to}`, err);
      }
    } else if (!(await this.head(from))) {
      throw new StoreNotFoundError(`moving ${from} to ${to} in ${this.location}: no such object`);
    }
    await this.delete(from);
    return written;
  }

  /**
   * S3 failures as store errors: 404 → not found; throttling, SDK timeouts and whatever the
   * HTTP clients' one classification calls temporary (5xx but 501/505, 408, 429, resets,
   * refused, DNS hiccups) → temporary.
   */
  private mapError(verb: string, key: string, err: unknown): StoreError {
    if (err instanceof StoreError) return err;
    const code = sdkErrorCode(err);
    const status = httpStatus(err);
    const where = `${verb} ${key} ${verb === 'writing' ? 'to' : 'in'} ${this.location}`;
    const cause = `${code || 'error'}${status ? ` (HTTP ${status})` : ''}: ${(err as Error)?.message ?? String(err)}`;
    if (NOT_FOUND_CODES.has(code) || status === 404) {
      return new StoreNotFoundError(`${where}: no such object`, { cause: err });
    }
    const throttled = (err as { $retryable?: { throttling?: boolean } })?.$retryable !== undefined;
    if (
      throttled ||
      (status !== undefined && isTemporaryStatus(status)) ||
      isTemporaryNetworkError(err) ||
      (err as Error)?.name === 'TimeoutError'
    ) {
      return new StoreUnavailableError(`${where}: ${cause}`, { cause: err });
    }
    return new StoreError(`${where}: ${cause}`, { cause: err });
  }
}

/**
 * The AWS SDK's name for an S3 failure (`NoSuchKey`, `PreconditionFailed`, …), else a network
 * code: not lib/http's errorCode, which looks for node's and undici's codes along `cause`.
 */
function sdkErrorCode(err: unknown): string {
  const e = err as { name?: string; Code?: string; code?: string };
  return e?.Code ?? e?.code ?? e?.name ?? '';
}

function httpStatus(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}
