// Where an FBC build's files go: the writer's two output trees (`configs/`, `cache/`), their
// modes, and their places in the catalog image (/configs, /tmp/cache) with the run settings
// `opm serve` needs. Apart from the writer so that everything which only places or names
// these files (the image stages, --to-fbc, every build's choice of image content) does not
// load the FBC encoder, validator and serve-cache code: a SQLite build never runs them.
import { compareWalkOrder } from '../catalog/file-tree.js';

/** Where the writer puts its two trees among the build's outputs. */
export const FBC_OUTPUT_CONFIGS = 'configs';
export const FBC_OUTPUT_CACHE = 'cache';

/** Modes of the configs tree in our images and directories (0755/0644, as opm migrate leaves them). */
export const CONFIGS_DIR_MODE = 0o755;
export const CONFIGS_FILE_MODE = 0o644;
/** Modes opm v1.26.5 writes the serve cache with (umask 0; its digest covers them). */
export const CACHE_DIR_MODE = 0o750;
export const CACHE_FILE_MODE = 0o640;

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

export interface FbcImageEntry<T = Uint8Array> {
  /** Path in the image, no leading slash. */
  path: string;
  mode: number;
  /** Absent for a directory. */
  data?: T;
}

/** A file among the writer's outputs: `configs/…` or `cache/…`. */
export interface FbcOutputFile<T = Uint8Array> {
  path: string;
  data: T;
}

/** One output tree (files under `prefix/`) placed at `root` in the image, in fs.WalkDir order. */
function placeTree<T>(
  outputs: readonly FbcOutputFile<T>[],
  prefix: string,
  root: string,
  modes: { dir: number; file: number },
): FbcImageEntry<T>[] {
  const entries = new Map<string, FbcImageEntry<T>>();
  for (const f of outputs) {
    if (!f.path.startsWith(`${prefix}/`)) continue;
    const parts = f.path.slice(prefix.length + 1).split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (!entries.has(dir)) entries.set(dir, { path: dir, mode: modes.dir });
    }
    const rel = parts.join('/');
    entries.set(rel, { path: rel, mode: modes.file, data: f.data });
  }
  const sorted = [...entries.values()].sort((a, b) => compareWalkOrder(a.path, b.path));
  return [
    { path: root, mode: modes.dir },
    ...sorted.map((e) => ({ ...e, path: `${root}/${e.path}` })),
  ];
}

/**
 * The entries of the FBC image layer from the writer's outputs (their data of any type: bytes,
 * or streams to open later): `configs/` as /configs and `cache/` as /tmp/cache, with the modes
 * the cache digest was computed over (configs 0755/0644, cache 0750/0640 as opm writes it,
 * /tmp kept 1777), parents before children.
 */
export function fbcImageEntries<T>(outputs: readonly FbcOutputFile<T>[]): FbcImageEntry<T>[] {
  return [
    ...placeTree(outputs, FBC_OUTPUT_CONFIGS, FBC_CONFIGS_DIR, {
      dir: CONFIGS_DIR_MODE,
      file: CONFIGS_FILE_MODE,
    }),
    { path: 'tmp', mode: TMP_MODE },
    ...placeTree(outputs, FBC_OUTPUT_CACHE, FBC_CACHE_DIR, {
      dir: CACHE_DIR_MODE,
      file: CACHE_FILE_MODE,
    }),
  ];
}
