// The FBC writer: a loaded catalog in, the `/configs` tree (`<package>/catalog.json`) and the
// opm serve cache out. Packages that `opm validate` would reject are left out with a named
// warning (fbc-validate) before anything is encoded, so what we write always loads in opm.
// The modes recorded here are the ones the image layer and --to-fbc use: the cache digest
// covers them, so they are part of the output, not a detail of whoever writes the files.
import type { LoadedCatalog } from '../catalog/model.js';
import { fbcFromCatalog } from './fbc-from-catalog.js';
import { fbcDocument } from './fbc-json.js';
import type { FbcCatalog, FbcPackageFile } from './fbc-model.js';
import {
  buildServeCache,
  CACHE_DIR_MODE,
  CACHE_FILE_MODE,
  type ServeCache,
} from './fbc-serve-cache.js';
import { type FbcViolation, validateFbc } from './fbc-validate.js';
import { type Tree, treeOf } from './go-tar-fnv.js';

/** Modes of the configs tree in our images and directories (0755/0644, as opm migrate leaves them). */
export const CONFIGS_DIR_MODE = 0o755;
export const CONFIGS_FILE_MODE = 0o644;
export const CATALOG_FILE = 'catalog.json';

export interface FbcFile {
  /** Relative path, e.g. `etcd/catalog.json`. */
  path: string;
  data: Uint8Array;
}

export interface FbcCounts {
  packages: number;
  channels: number;
  bundles: number;
}

export interface WrittenFbc {
  catalog: FbcCatalog;
  /** One `<package>/catalog.json` per package, sorted by package name. */
  files: FbcFile[];
  configs: Tree;
  cache: ServeCache;
  counts: FbcCounts;
  /** What opm validate would have rejected; each violation's package is left out. */
  violations: FbcViolation[];
}

const encoder = new TextEncoder();

/** The bytes of `<package>/catalog.json`. */
export function packageFileText(file: FbcPackageFile): string {
  let text = fbcDocument(file.package);
  for (const c of file.channels) text += fbcDocument(c);
  for (const b of file.bundles) text += fbcDocument(b);
  return text;
}

/** Encodes an FBC catalog (already validated) with its serve cache. */
export function encodeFbc(catalog: FbcCatalog, violations: FbcViolation[] = []): WrittenFbc {
  const files = catalog.packages.map((p) => ({
    path: `${p.package.name}/${CATALOG_FILE}`,
    data: encoder.encode(packageFileText(p)),
  }));
  const configs = treeOf(files, { dir: CONFIGS_DIR_MODE, file: CONFIGS_FILE_MODE });
  const cache = buildServeCache(catalog, configs);
  const counts: FbcCounts = { packages: 0, channels: 0, bundles: 0 };
  for (const p of catalog.packages) {
    counts.packages++;
    counts.channels += p.channels.length;
    counts.bundles += p.bundles.length;
  }
  return { catalog, files, configs, cache, counts, violations };
}

/** The FBC of a loaded catalog, without the packages opm validate would reject. */
export function writeFbc(catalog: LoadedCatalog): WrittenFbc {
  const checked = validateFbc(fbcFromCatalog(catalog));
  return encodeFbc(checked.catalog, checked.violations);
}

/** Where the parts of an FBC build go in the image, and the run settings opm needs. */
export const FBC_CONFIGS_DIR = 'configs';
export const FBC_CACHE_DIR = 'tmp/cache';
export const FBC_CONFIGS_LABEL = 'operators.operatorframework.io.index.configs.v1';

/**
 * LABEL, ENTRYPOINT and CMD as `opm generate dockerfile` v1.26.5 writes them: the server
 * starts on /configs with the pre-built cache, integrity enforced (its default).
 */
export const FBC_RUN_CONFIG = {
  labels: { [FBC_CONFIGS_LABEL]: `/${FBC_CONFIGS_DIR}` },
  entrypoint: ['/bin/opm'],
  cmd: ['serve', `/${FBC_CONFIGS_DIR}`, `--cache-dir=/${FBC_CACHE_DIR}`],
};

/** /tmp as every base image has it (world-writable, sticky): our layer must not narrow it. */
const TMP_MODE = 0o1777;

export interface FbcImageEntry {
  /** Path in the image, no leading slash. */
  path: string;
  mode: number;
  /** Absent for a directory. */
  data?: Uint8Array;
}

/**
 * The entries of the FBC image layer: `configs/` (the digest's first tree, with the modes it
 * was computed over) and `tmp/cache/` (digest, cache/ files), parents before children.
 */
export function fbcImageEntries(
  configs: Tree,
  cache: { files: ReadonlyArray<{ path: string; data: Uint8Array }> },
): FbcImageEntry[] {
  const out: FbcImageEntry[] = [{ path: FBC_CONFIGS_DIR, mode: configs.rootMode }];
  for (const e of configs.entries)
    out.push({
      path: `${FBC_CONFIGS_DIR}/${e.path}`,
      mode: e.mode,
      ...(e.data ? { data: e.data } : {}),
    });
  out.push({ path: 'tmp', mode: TMP_MODE }, { path: FBC_CACHE_DIR, mode: CACHE_DIR_MODE });
  const dirs = new Set<string>();
  for (const f of cache.files) {
    const slash = f.path.lastIndexOf('/');
    if (slash > 0) {
      const dir = f.path.slice(0, slash);
      if (!dirs.has(dir)) {
        dirs.add(dir);
        out.push({ path: `${FBC_CACHE_DIR}/${dir}`, mode: CACHE_DIR_MODE });
      }
    }
    out.push({ path: `${FBC_CACHE_DIR}/${f.path}`, mode: CACHE_FILE_MODE, data: f.data });
  }
  return out;
}
