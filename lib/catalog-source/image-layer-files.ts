// The files an image's layers hold, as one FileTree: layers applied in order with OCI
// whiteouts, links and special files never becoming files, gunzip and tar capped like App
// Registry blobs (the one set of archive limits, lib/archive/limits.ts) so a hostile layer
// cannot exhaust memory. Bundle images (bundle-image.ts) and catalog images
// (catalog-image.ts) are both read this way; each names its own error class.
import { gunzipSync } from 'node:zlib';
import {
  DEFAULT_DECODE_LIMITS,
  type DecodeLimits,
  MAX_META_BYTES,
  maxTarBytes,
} from '../archive/limits.js';
import { readTar, type TarEntry } from '../archive/tar.js';
import type { FileTree } from '../catalog/file-tree.js';
import { RegistryError } from '../errors.js';

/** An image's layers cannot be read as files (any image: bundle, catalog). */
export class ImageLayersError extends RegistryError {
  override name = 'ImageLayersError';
}

export type LayersErrorClass = new (message: string, options?: ErrorOptions) => ImageLayersError;

export interface LayerBlob {
  mediaType: string;
  data: Uint8Array;
}

function layerTar(
  subject: string,
  layer: LayerBlob,
  caps: DecodeLimits,
  Err: LayersErrorClass,
): Uint8Array {
  const gz = layer.data.length >= 2 && layer.data[0] === 0x1f && layer.data[1] === 0x8b;
  if (!gz) {
    if (/zstd/.test(layer.mediaType))
      throw new Err(`reading ${subject}: zstd layers are not supported`);
    return layer.data;
  }
  const maxOutputLength = maxTarBytes(caps);
  try {
    return gunzipSync(layer.data, { maxOutputLength });
  } catch (cause) {
    throw new Err(
      `reading ${subject}: layer does not decompress within ${maxOutputLength} bytes: ${(cause as Error).message}`,
      { cause },
    );
  }
}

function cleanPath(subject: string, name: string, Err: LayersErrorClass): string {
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..') || name.includes('\0'))
    throw new Err(`reading ${subject}: layer entry ${JSON.stringify(name)} leaves the image root`);
  return parts.join('/');
}

/**
 * The files of an image's layers, applied in order (whiteouts remove earlier files);
 * `subject` names the image in messages ("catalog image host/repo:tag").
 */
export function imageLayerFiles(
  subject: string,
  layers: readonly LayerBlob[],
  limits: Partial<DecodeLimits> = {},
  Err: LayersErrorClass = ImageLayersError,
): FileTree {
  const caps: DecodeLimits = { ...DEFAULT_DECODE_LIMITS, ...limits };
  const files = new Map<string, Uint8Array>();
  let total = 0;
  for (const layer of layers) {
    let entries: TarEntry[];
    try {
      entries = [
        ...readTar(layerTar(subject, layer, caps, Err), {
          maxEntries: caps.maxEntries,
          maxMetaBytes: MAX_META_BYTES,
        }),
      ];
    } catch (err) {
      // The tar reader's neutral errors (TarError) become the caller's named error.
      if (err instanceof ImageLayersError) throw err;
      throw new Err(`reading ${subject}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    for (const entry of entries) {
      const path = cleanPath(subject, entry.name, Err);
      const slash = path.lastIndexOf('/');
      const base = path.slice(slash + 1);
      const dir = slash === -1 ? '' : path.slice(0, slash);
      if (base === '.wh..wh..opq') {
        for (const k of [...files.keys()]) if (k.startsWith(`${dir}/`)) files.delete(k);
        continue;
      }
      if (base.startsWith('.wh.')) {
        const gone = (dir ? `${dir}/` : '') + base.slice(4);
        for (const k of [...files.keys()])
          if (k === gone || k.startsWith(`${gone}/`)) files.delete(k);
        continue;
      }
      if (entry.type !== 'file' || path === '') continue;
      if (entry.size > caps.maxFileBytes)
        throw new Err(
          `reading ${subject}: file ${path} has ${entry.size} bytes, over the ${caps.maxFileBytes}-byte cap`,
        );
      total += entry.size;
      if (total > caps.maxTotalBytes)
        throw new Err(`reading ${subject}: files hold more than ${caps.maxTotalBytes} bytes`);
      files.set(path, entry.data);
    }
  }
  return [...files].map(([path, data]) => ({ path, data }));
}
