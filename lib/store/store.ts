// The store every stage reads and writes: an S3 bucket in AWS, a local directory for the CLI.
// One interface, identical key layout (see keys.ts), so the same stage code runs in both.
// Keys are '/'-separated relative paths; implementations reject anything else (no '..',
// no leading '/'), which keeps a hostile key from escaping a local directory.

import type { Readable } from 'node:stream';
import { type BuilderErrorOptions, StoreError } from '../errors.js';
import { redactValue } from '../redact.js';

export interface ObjectInfo {
  key: string;
  size: number;
}

export interface PutOptions {
  contentType?: string;
  /** Write only when the key does not exist yet; returns false (and writes nothing) if it does. */
  ifNoneMatch?: boolean;
}

export interface Store {
  /** Human-readable location for logs and reports, e.g. "s3://bucket" or "dir:out/store". */
  readonly location: string;
  put(key: string, body: Uint8Array | string, options?: PutOptions): Promise<boolean>;
  putStream(key: string, body: Readable, options?: PutOptions): Promise<boolean>;
  /** The whole object; throws StoreNotFoundError when absent. */
  get(key: string): Promise<Uint8Array>;
  getStream(key: string): Promise<Readable>;
  /** Size of the object, or undefined when it does not exist. */
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Every key under the prefix, in byte order. */
  list(prefix: string): Promise<ObjectInfo[]>;
  delete(key: string): Promise<void>;
  /**
   * Renames an object (within the store, no bytes through this process where the backend can
   * avoid it): how a streamed blob whose digest is known only at its end gets its
   * content-addressed key. With `ifNoneMatch` an existing target is kept; the source is gone
   * afterwards either way. Returns whether the target was written; StoreNotFoundError when
   * `from` is absent.
   */
  move(from: string, to: string, options?: Pick<PutOptions, 'ifNoneMatch'>): Promise<boolean>;
}

export class StoreNotFoundError extends StoreError {
  override name = 'StoreNotFoundError';
}

/** Throttling, 5xx or a network failure: temporary by definition. */
export class StoreUnavailableError extends StoreError {
  override name = 'StoreUnavailableError';
  constructor(message: string, options: BuilderErrorOptions = {}) {
    super(message, { ...options, temporary: true });
  }
}

export class InvalidStoreKeyError extends StoreError {
  override name = 'InvalidStoreKeyError';
}

/** Throws InvalidStoreKeyError unless `key` is a plain relative '/'-separated path. */
export function assertValidKey(key: string): void {
  const parts = key.split('/');
  if (
    key.length === 0 ||
    key.length > 1024 ||
    key.includes('\0') ||
    key.includes('\\') ||
    parts.some((p) => p === '' || p === '.' || p === '..')
  ) {
    throw new InvalidStoreKeyError(`using store key ${JSON.stringify(key)}: not a relative path`);
  }
}

export async function getJson<T>(store: Store, key: string): Promise<T> {
  const bytes = await store.get(key);
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as T;
  } catch (cause) {
    throw new StoreError(`reading ${key}: not valid JSON`, { cause });
  }
}

export function putJson(
  store: Store,
  key: string,
  value: unknown,
  options?: PutOptions,
): Promise<boolean> {
  // The store is a boundary: records never hold a credential, whatever a server echoed.
  // Unregistered query values stay: a stored request's webhook URL must still work.
  return store.put(key, `${JSON.stringify(redactValue(value, { keepQuery: true }), null, 2)}\n`, {
    contentType: 'application/json',
    ...options,
  });
}
