// The FBC writer: a loaded catalog in, the `/configs` tree (`<package>/catalog.json`) and the
// opm serve cache out. Packages that `opm validate` would reject are left out with a named
// warning (fbc-validate) before anything is encoded, so what we write always loads in opm.
// The modes recorded here are the ones the image layer and --to-fbc use: the cache digest
// covers them, so they are part of the output, not a detail of whoever writes the files.

import { compareWalkOrder } from '../catalog/file-tree.js';
import type { Bundle, LoadedCatalog, LoaderRules, Package, Problem } from '../catalog/model.js';
import {
  type CatalogFile,
  type CatalogOutput,
  type CatalogWriteResult,
  type CatalogWriter,
  IndexWriteError,
  writeCatalogFile,
} from './catalog-writer.js';
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
  if (catalog.rules !== FBC_RULES)
    throw new IndexWriteError(
      `writing the fbc catalog: it needs a catalog loaded with the ${FBC_RULES} rules, not ${catalog.rules}`,
    );
  const checked = validateFbc(fbcFromCatalog(catalog));
  return encodeFbc(checked.catalog, checked.violations);
}

const FBC_RULES: LoaderRules = 'v1.26.5';
const JSON_TYPE = 'application/json';
/** Where the writer puts its two trees among the build's outputs. */
export const FBC_OUTPUT_CONFIGS = 'configs';
export const FBC_OUTPUT_CACHE = 'cache';

/** A violation as a load problem of its package: the rule's name leads the message. */
export function violationProblem(v: FbcViolation): Problem {
  return { subject: v.packageName, kind: 'package', message: `${v.rule}: ${v.message}` };
}

/**
 * The `fbc` CatalogWriter: holds the bundles and packages it is given (a bundle's olm.package
 * rows may come from any package walk, and the cache digest covers every file), then writes
 * `configs/<package>/catalog.json` and the serve cache under `cache/` (`cache/digest`,
 * `cache/cache/…`). Counts are objects per schema; `problems` are the validation warnings.
 */
export class FbcCatalogWriter implements CatalogWriter {
  readonly format = 'fbc';
  readonly rules = FBC_RULES;
  private bundles: Bundle[] = [];
  private packages: Package[] = [];
  /** Set by finish(): what the catalog looked like (for --to-fbc and the image layer). */
  written?: WrittenFbc;

  constructor(private readonly output: CatalogOutput) {}

  async begin(): Promise<void> {}

  async addBundle(bundle: Bundle): Promise<void> {
    this.bundles.push(bundle);
  }

  async addPackage(pkg: Package): Promise<void> {
    this.packages.push(pkg);
  }

  async finish(): Promise<CatalogWriteResult> {
    const fbc = writeFbc({
      rules: FBC_RULES,
      bundles: this.bundles,
      packages: this.packages,
      problems: [],
    });
    this.abort();
    const files: CatalogFile[] = [];
    for (const f of fbc.files)
      files.push(
        await writeCatalogFile(this.output, `${FBC_OUTPUT_CONFIGS}/${f.path}`, f.data, JSON_TYPE),
      );
    for (const f of fbc.cache.files)
      files.push(
        await writeCatalogFile(
          this.output,
          `${FBC_OUTPUT_CACHE}/${f.path}`,
          f.data,
          f.path === 'digest' ? 'text/plain' : JSON_TYPE,
        ),
      );
    this.written = fbc;
    return {
      format: this.format,
      files,
      counts: {
        'olm.package': fbc.counts.packages,
        'olm.channel': fbc.counts.channels,
        'olm.bundle': fbc.counts.bundles,
      },
      totals: { ...fbc.counts },
      problems: fbc.violations.map(violationProblem),
    };
  }

  abort(): void {
    this.bundles = [];
    this.packages = [];
  }
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

/** The writer's outputs of a WrittenFbc, as FbcCatalogWriter names them. */
export function fbcOutputFiles(fbc: WrittenFbc): FbcOutputFile[] {
  return [
    ...fbc.files.map((f) => ({ path: `${FBC_OUTPUT_CONFIGS}/${f.path}`, data: f.data })),
    ...fbc.cache.files.map((f) => ({ path: `${FBC_OUTPUT_CACHE}/${f.path}`, data: f.data })),
  ];
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
