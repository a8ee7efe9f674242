// sha256 digests in the `sha256:<hex>` form registries use, and JSON documents turned into the
// exact bytes that get hashed and pushed (one serialisation, so digest and bytes never disagree).
import { createHash } from 'node:crypto';
import { MalformedImageError } from './errors.js';
import type { Raw } from './types.js';

export function sha256Digest(bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Serialises `value` compactly with JSON.stringify (key order as built) and digests the bytes. */
export function toRaw<T>(value: T, mediaType: string): Raw<T> {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  return { value, bytes, digest: sha256Digest(bytes), mediaType };
}

/** Parses stored bytes, keeping them as-is so the digest stays the one the registry knows. */
export function parseRaw<T>(bytes: Uint8Array, mediaType: string, what: string): Raw<T> {
  let value: T;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes)) as T;
  } catch (cause) {
    throw new MalformedImageError(`parsing ${what}: not valid JSON`, { cause });
  }
  return { value, bytes, digest: sha256Digest(bytes), mediaType };
}
