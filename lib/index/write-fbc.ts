// The FBC writer: a loaded catalog in, the `/configs` tree (`<package>/catalog.json`) and the
// opm serve cache out. Packages that `opm validate` would reject are left out with a named
// warning (fbc-validate) before anything is encoded, so what we write always loads in opm.
// The modes it records (fbc-image.ts) are the ones the image layer and --to-fbc use: the cache
// digest covers them, so they are part of the output, not a detail of whoever writes the files.
// writeFbc encodes a catalog held in memory (the reference); FbcCatalogWriter writes the same
// bytes package by package, holding only each bundle's encoded parts.
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { compareWalkOrder } from '../catalog/file-tree.js';
import type {
  Bundle,
  LoadedCatalog,
  LoaderRules,
  Package,
  Problem,
  Property,
} from '../catalog/model.js';
import {
  type CatalogFile,
  type CatalogOutput,
  type CatalogWriteResult,
  type CatalogWriter,
  IndexWriteError,
  writeCatalogFile,
} from './catalog-writer.js';
import {
  type FbcBundleParts,
  fbcBundleParts,
  fbcFromCatalog,
  fbcPackageFile,
  packageRowsOf,
} from './fbc-from-catalog.js';
import {
  CACHE_DIR_MODE,
  CACHE_FILE_MODE,
  CONFIGS_DIR_MODE,
  CONFIGS_FILE_MODE,
  FBC_OUTPUT_CACHE,
  FBC_OUTPUT_CONFIGS,
  type FbcOutputFile,
} from './fbc-image.js';
import { fbcDocument } from './fbc-json.js';
import type { FbcCatalog, FbcIcon, FbcPackageFile } from './fbc-model.js';
import {
  type ApiBundleBase,
  buildServeCache,
  CACHE_DIGEST_FILE,
  CACHE_SUBDIR,
  type CacheFileSpec,
  PACKAGES_JSON,
  packageCacheFile,
  packageCacheSpecs,
  packageIndexEntry,
  packagesJson,
  type ServeCache,
} from './fbc-serve-cache.js';
import { type FbcViolation, validateFbc, validatePackage } from './fbc-validate.js';
import { RawJson } from './go-json.js';
import { Fnv1a64, type Tree, TreeStream, treeOf } from './go-tar-fnv.js';

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
const decoder = new TextDecoder();

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

/** A violation as a load problem of its package: the rule's name leads the message. */
export function violationProblem(v: FbcViolation): Problem {
  return { subject: v.packageName, kind: 'package', message: `${v.rule}: ${v.message}` };
}

/** Held objects of all bundles beyond which each newly held bundle's objects are deflated. */
const DEFLATE_AFTER_BYTES = 64 * 1024 * 1024;

/** A bundle's FBC parts as the writer holds them: small fields, objects and icon packed. */
interface HeldBundle {
  name: string;
  image: string;
  version: string;
  deprecated: boolean;
  properties: { type: string; text: string }[];
  relatedImages: FbcBundleParts['relatedImages'];
  /** The objects' JSON bytes and the icon, framed (u32 length + bytes each), maybe deflated. */
  packed: Uint8Array;
  deflated: boolean;
}

function pack(parts: FbcBundleParts): Uint8Array {
  const icon = parts.icon ? encoder.encode(JSON.stringify(parts.icon)) : new Uint8Array(0);
  const frames = [...parts.objects, icon];
  const out = new Uint8Array(frames.reduce((n, f) => n + 4 + f.length, 4));
  const view = new DataView(out.buffer);
  view.setUint32(0, parts.objects.length);
  let at = 4;
  for (const f of frames) {
    view.setUint32(at, f.length);
    out.set(f, at + 4);
    at += 4 + f.length;
  }
  return out;
}

function unpack(bytes: Uint8Array): { objects: Uint8Array[]; icon?: FbcIcon } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const count = view.getUint32(0);
  const frames: Uint8Array[] = [];
  let at = 4;
  for (let i = 0; i <= count; i++) {
    const length = view.getUint32(at);
    frames.push(bytes.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  const icon = frames.pop()!;
  return {
    objects: frames,
    ...(icon.length > 0 ? { icon: JSON.parse(decoder.decode(icon)) as FbcIcon } : {}),
  };
}

/** Parent directories of `path` not yet in `dirs`, outermost first (and now in `dirs`). */
function newParents(path: string, dirs: Set<string>): string[] {
  const parts = path.split('/');
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) {
    const dir = parts.slice(0, i).join('/');
    if (!dirs.has(dir)) {
      dirs.add(dir);
      out.push(dir);
    }
  }
  return out;
}

/**
 * The `fbc` CatalogWriter, in bounded memory. A bundle's FBC parts are taken from it when it
 * arrives (fbcBundleParts: properties, related images, each object's JSON bytes, the icon) and
 * only those are held — the objects and icon packed, and deflated once the held objects pass
 * DEFLATE_AFTER_BYTES — never the decoded bundle. Packages are held as the loader made them
 * (names and graph: small). finish() then makes each package's objects from the held parts,
 * one package at a time in the order of the configs tree, checks it as opm validate would
 * (a refused package is left out with a named warning), writes `configs/<package>/catalog.json`
 * and feeds it to the serve-cache digest; then it makes the cache files in the order of the
 * cache tree (a package's objects made again when its files come; the digest covers the
 * configs tree, then the cache tree, so neither is held whole) and writes `cache/digest`.
 * The bytes are those of writeFbc over the whole catalog. Counts are objects per schema;
 * `problems` are the validation warnings.
 */
export class FbcCatalogWriter implements CatalogWriter {
  readonly format = 'fbc';
  readonly rules = FBC_RULES;
  private bundles = new Map<string, HeldBundle>();
  private packages: Package[] = [];
  /** Bytes packed so far (before deflating): past deflateAfterBytes, bundles are deflated. */
  private packedBytes = 0;
  /** Bytes of the packed (and perhaps deflated) parts held. */
  private storedBytes = 0;

  private readonly deflateAfterBytes: number;

  constructor(
    private readonly output: CatalogOutput,
    options: { deflateAfterBytes?: number } = {},
  ) {
    this.deflateAfterBytes = options.deflateAfterBytes ?? DEFLATE_AFTER_BYTES;
  }

  async begin(): Promise<void> {}

  async addBundle(bundle: Bundle): Promise<void> {
    const parts = fbcBundleParts(bundle);
    let packed = pack(parts);
    const deflated = this.packedBytes >= this.deflateAfterBytes;
    this.packedBytes += packed.length;
    if (deflated) packed = deflateRawSync(packed, { level: 1 });
    this.storedBytes += packed.length;
    // Fresh strings: a property value or image cut out of a CSV's text would keep that text.
    const small = JSON.parse(
      JSON.stringify({
        name: parts.name,
        image: parts.image,
        version: parts.version,
        properties: parts.properties.map((p) => ({ type: p.type, text: p.value.text })),
        relatedImages: parts.relatedImages,
      }),
    ) as Omit<HeldBundle, 'packed' | 'deflated' | 'deprecated'>;
    this.storedBytes -= this.bundles.get(bundle.name)?.packed.length ?? 0;
    this.bundles.set(bundle.name, { ...small, deprecated: parts.deprecated, packed, deflated });
  }

  async addPackage(pkg: Package): Promise<void> {
    this.packages.push(pkg);
  }

  private parts(name: string): FbcBundleParts | undefined {
    const held = this.bundles.get(name);
    if (!held) return undefined;
    const { objects, icon } = unpack(held.deflated ? inflateRawSync(held.packed) : held.packed);
    return {
      name: held.name,
      image: held.image,
      version: held.version,
      deprecated: held.deprecated,
      properties: held.properties.map((p) => ({ type: p.type, value: new RawJson(p.text) })),
      objects,
      relatedImages: held.relatedImages,
      ...(icon ? { icon } : {}),
    };
  }

  /** One package's FBC objects from the held parts (each bundle unpacked once). */
  private packageFile(pkg: Package, packageRows: ReadonlyMap<string, Property[]>): FbcPackageFile {
    const unpacked = new Map<string, FbcBundleParts | undefined>();
    const lookup = (name: string) => {
      if (!unpacked.has(name)) unpacked.set(name, this.parts(name));
      return unpacked.get(name);
    };
    return fbcPackageFile(pkg, lookup, packageRows);
  }

  async finish(): Promise<CatalogWriteResult> {
    const packageRows = packageRowsOf(this.packages);
    // The configs tree's walk order (package-name order for names without '/'), stable.
    const ordered = this.packages
      .map((pkg, i) => ({ pkg, i, path: `${pkg.name}/${CATALOG_FILE}` }))
      .sort((a, b) => compareWalkOrder(a.path, b.path) || a.i - b.i);
    const hash = new Fnv1a64();
    const configs = new TreeStream(hash, CONFIGS_DIR_MODE);
    const configDirs = new Set<string>();
    const files: CatalogFile[] = [];
    const violations: FbcViolation[] = [];
    const seen = new Set<string>();
    const kept: { pkg: Package; specs: CacheFileSpec[] }[] = [];
    const index = new Map<string, unknown>();
    const counts: FbcCounts = { packages: 0, channels: 0, bundles: 0 };
    for (const { pkg, path } of ordered) {
      const file = this.packageFile(pkg, packageRows);
      const found = validatePackage(file, seen);
      violations.push(...found);
      if (found.length > 0) continue;
      const data = encoder.encode(packageFileText(file));
      for (const dir of newParents(path, configDirs)) configs.entry(dir, CONFIGS_DIR_MODE);
      configs.entry(path, CONFIGS_FILE_MODE, data);
      files.push(
        await writeCatalogFile(this.output, `${FBC_OUTPUT_CONFIGS}/${path}`, data, JSON_TYPE),
      );
      counts.packages++;
      counts.channels += file.channels.length;
      counts.bundles += file.bundles.length;
      index.set(file.package.name, packageIndexEntry(file));
      kept.push({ pkg, specs: packageCacheSpecs(file) });
    }
    configs.end();

    // The cache tree: each file and what makes it; of two files with one path the later one
    // wins (opm's cache builder writes them in package, channel, entry order).
    const plan = new Map<string, { k: number; spec: CacheFileSpec } | undefined>();
    kept.forEach(({ specs }, k) => {
      for (const spec of specs) plan.set(spec.path, { k, spec });
    });
    plan.set(PACKAGES_JSON, undefined);
    const cacheDirs = new Set<string>();
    const paths = [...plan.keys()].map((p) => p.slice(CACHE_SUBDIR.length + 1));
    const entries = [...paths.flatMap((p) => newParents(p, cacheDirs)), ...paths].sort(
      compareWalkOrder,
    );
    const cache = new TreeStream(hash, CACHE_DIR_MODE);
    const cacheFiles: CatalogFile[] = [];
    let current: { k: number; file: FbcPackageFile; bases: Map<string, ApiBundleBase> } | undefined;
    for (const rel of entries) {
      if (cacheDirs.has(rel)) {
        cache.entry(rel, CACHE_DIR_MODE);
        continue;
      }
      const path = `${CACHE_SUBDIR}/${rel}`;
      const made = plan.get(path);
      let data: Uint8Array;
      if (made === undefined) data = packagesJson(index).data;
      else {
        if (current?.k !== made.k)
          current = {
            k: made.k,
            file: this.packageFile(kept[made.k]!.pkg, packageRows),
            bases: new Map(),
          };
        data = packageCacheFile(current.file, made.spec, current.bases).data;
      }
      cache.entry(rel, CACHE_FILE_MODE, data);
      cacheFiles.push(
        await writeCatalogFile(this.output, `${FBC_OUTPUT_CACHE}/${path}`, data, JSON_TYPE),
      );
    }
    cache.end();
    current = undefined;
    const digest = hash.hex();
    // Written last: a build that stops half-way leaves no digest claiming a complete cache.
    files.push(
      ...cacheFiles,
      await writeCatalogFile(
        this.output,
        `${FBC_OUTPUT_CACHE}/${CACHE_DIGEST_FILE}`,
        encoder.encode(digest),
        'text/plain',
      ),
    );
    this.abort();
    return {
      format: this.format,
      files,
      counts: {
        'olm.package': counts.packages,
        'olm.channel': counts.channels,
        'olm.bundle': counts.bundles,
      },
      totals: { ...counts },
      problems: violations.map(violationProblem),
    };
  }

  heldBytes(): number {
    return this.storedBytes;
  }

  abort(): void {
    this.bundles = new Map();
    this.packages = [];
    this.packedBytes = 0;
    this.storedBytes = 0;
  }
}

/** The writer's outputs of a WrittenFbc, as FbcCatalogWriter names them. */
export function fbcOutputFiles(fbc: WrittenFbc): FbcOutputFile[] {
  return [
    ...fbc.files.map((f) => ({ path: `${FBC_OUTPUT_CONFIGS}/${f.path}`, data: f.data })),
    ...fbc.cache.files.map((f) => ({ path: `${FBC_OUTPUT_CACHE}/${f.path}`, data: f.data })),
  ];
}
