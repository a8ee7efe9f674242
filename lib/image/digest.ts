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

/**
 * Deepest nesting a manifest, index or config may have. Real ones stay under 10; every walk
 * over an image document (serialising, copying) recurses, so a 20 000-deep config from a
 * hostile registry must stop here, named, not as a stack overflow somewhere later.
 */
export const MAX_JSON_DEPTH = 128;

/** The nesting depth of a JSON text, counted without recursion (strings skipped). */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      depth++;
      if (depth > max) max = depth;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/** Parses stored bytes, keeping them as-is so the digest stays the one the registry knows. */
export function parseRaw<T>(bytes: Uint8Array, mediaType: string, what: string): Raw<T> {
  let value: T;
  const text = new TextDecoder().decode(bytes);
  const depth = jsonDepth(text);
  if (depth > MAX_JSON_DEPTH)
    throw new MalformedImageError(
      `parsing ${what}: nested ${depth} levels deep, over the limit of ${MAX_JSON_DEPTH}`,
    );
  try {
    value = JSON.parse(text) as T;
  } catch (cause) {
    throw new MalformedImageError(`parsing ${what}: not valid JSON`, { cause });
  }
  return { value, bytes, digest: sha256Digest(bytes), mediaType };
}
