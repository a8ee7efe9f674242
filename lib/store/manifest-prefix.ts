// Reads the manifest folders under a key prefix of the store (a pipeline build's
// `bundlePrefix`) into the FileTree the catalog rules read, paths relative to the prefix — the
// bucket counterpart of manifest-dir.ts. The listing comes first, so the caller can judge the
// total size before a byte is read; then every object is read, a bounded number at once. A
// prefix with no objects, or with more than a catalog's worth, is a named error.
import type { TreeFile } from '../catalog/file-tree.js';
import { CatalogError } from '../errors.js';
import { mapAll } from '../http/limiter.js';
import type { ObjectInfo, Store } from './store.js';

export class ManifestPrefixError extends CatalogError {
  override name = 'ManifestPrefixError';
}

/**
 * Objects one prefix may hold: the community catalog (~7,000 bundles) has ~70,000 files; a
 * listing far beyond is not a catalog, and reading it would only exhaust the function.
 */
export const MAX_PREFIX_FILES = 250_000;
/** Objects read at once: enough to hide S3 latency, few enough for the connection pool. */
const READS = 32;

export interface ListedPrefix {
  prefix: string;
  objects: ObjectInfo[];
  bytes: number;
}

/** The objects under `prefix` (a folder: it ends with '/') and their total size. */
export async function listManifestPrefix(store: Store, prefix: string): Promise<ListedPrefix> {
  const what = `reading bundle folders under ${store.location}/${prefix}`;
  const objects = (await store.list(prefix)).filter((o) => !o.key.endsWith('/'));
  if (objects.length === 0) throw new ManifestPrefixError(`${what}: no objects under the prefix`);
  if (objects.length > MAX_PREFIX_FILES)
    throw new ManifestPrefixError(
      `${what}: ${objects.length} objects, over the limit of ${MAX_PREFIX_FILES} for one catalog`,
    );
  return { prefix, objects, bytes: objects.reduce((n, o) => n + o.size, 0) };
}

/** Every listed object's bytes, as files relative to the prefix, in key order. */
export async function readManifestPrefix(store: Store, listed: ListedPrefix): Promise<TreeFile[]> {
  return mapAll(listed.objects, READS, async (o) => ({
    path: o.key.slice(listed.prefix.length),
    data: await store.get(o.key),
  }));
}
