// What `diff` and `graph` share: the flags that say where catalogs are read from (the store
// for build ids, the root of file:// images, plain HTTP to registries) and the reader deps
// built from them, so both commands accept the same inputs the same way.
import path from 'node:path';
import { readCatalogImage } from '../catalog-source/catalog-image.js';
import type { CatalogSourceDeps } from '../catalog-source/read-catalog.js';
import { LocalDirStore } from '../store/local-dir-store.js';
import { defaultStoreDir } from './build-options.js';

export const CATALOG_INPUT_OPTIONS = {
  store: { type: 'string' },
  dir: { type: 'string' },
  insecure: { type: 'boolean' },
} as const;

export function catalogSources(values: {
  store?: string | undefined;
  dir?: string | undefined;
  insecure?: boolean | undefined;
}): CatalogSourceDeps {
  return {
    store: new LocalDirStore(path.resolve(values.store ?? defaultStoreDir())),
    readImage: (ref) =>
      readCatalogImage(ref, {
        insecure: Boolean(values.insecure),
        ...(values.dir ? { fileRoot: values.dir } : {}),
      }),
  };
}
