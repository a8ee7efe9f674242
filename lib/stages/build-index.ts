// Stage: build the catalog. Input is a local manifests directory (offline CLI builds;
// package-manifest and/or bundle-format folders), the package blobs fetch-package left in the
// store (decoded in memory, as oc unpacked them on disk), the bundle image layers fetch-bundle
// left there, or the folders under a key prefix of the store (a pipeline request's
// `bundlePrefix`). Those folders are read here directly, listed then read bounded-parallel,
// not fanned out: they are in the bucket already, so a Map would only copy every object to
// another key before this stage read it; the listing's total size is checked against the
// function's memory before a byte is read. The request's index format (lib/index/catalog-formats.ts) picks the
// loader rules and the catalog writer, whose files land under builds/<id>/ (bundles.db for
// the SQLite formats), next to warnings.json. Load problems are warnings, never failures,
// exactly as upstream's permissive load; the result carries the database's key and digest,
// the counts and the key of the file list (builds/<id>/catalog-files.json), so later stages
// and the report need no bytes and the result stays small whatever the catalog's size.
import { Readable } from 'node:stream';
import { decodePackageBlob } from '../appregistry/decode.js';
import { loadBundleCatalog } from '../catalog/bundle-catalog.js';
import { detectManifestFormats } from '../catalog/detect-format.js';
import {
  compareBytes,
  type FileTree,
  type TreeFile,
  walkOrderGroups,
} from '../catalog/file-tree.js';
import { problemsWarning } from '../catalog/load-catalog.js';
import { loadCatalogInParts } from '../catalog/load-in-parts.js';
import {
  type BundleOutcome,
  bundleOutcomes,
  loadManifestDir,
  type ManifestFormats,
  parseBundleFolders,
} from '../catalog/load-manifest-dir.js';
import type { LoadedCatalog, LoaderRules, Problem } from '../catalog/model.js';
import { BundleImageError, bundleLayerFiles } from '../catalog-source/bundle-image.js';
import { CatalogError } from '../errors.js';
import {
  createCatalogWriter,
  DEFAULT_INDEX_FORMAT,
  loaderRulesFor,
} from '../index/catalog-formats.js';
import type { CatalogOutput, CatalogWriter } from '../index/catalog-writer.js';
import { DB_FILE } from '../index/write-index.js';
import { buildKeys } from '../store/keys.js';
import { lazyManifestDir } from '../store/manifest-dir.js';
import { listManifestPrefix, readManifestPrefix } from '../store/manifest-prefix.js';
import { putJson, type Store } from '../store/store.js';
import { MemoryWatch } from './memory.js';
import { readFetchedPackages } from './stage-results.js';
import type {
  BuildIndexRequest,
  BuildIndexResult,
  FetchedBundle,
  FetchedPackage,
  StageDeps,
} from './types.js';

export class NoManifestsError extends CatalogError {
  override name = 'NoManifestsError';
}

/** Manifests were read but not one package could be loaded: an empty index is never written. */
export class EmptyCatalogError extends CatalogError {
  override name = 'EmptyCatalogError';
}

/** The build would need more memory than it may use: it stops before loading anything. */
export class IndexMemoryLimitError extends CatalogError {
  override name = 'IndexMemoryLimitError';
}

/**
 * The memory model of a bounded build, fitted to docs/BENCHMARKS.md ("Scale"): the database
 * is about 1.2x the manifests' bytes (1.13-1.19x measured, 1.25 assumed), sql.js holds it
 * twice while exporting it, and the rest grows slowly with the catalog (98 MiB for the dev
 * corpus, 128 MiB at 1,000 packages, 295 MiB at 5,000: about 100 MiB + 0.16x the DB). The
 * estimate is 2.2x the DB + 120 MiB, above every measured peak.
 */
export const MEMORY_MODEL = {
  dbPerManifestByte: 1.25,
  peakPerDbMb: 2.2,
  floorMb: 120,
  headroom: 0.95,
} as const;

export function estimateIndexMemoryMb(manifestBytes: number): { dbMb: number; peakMb: number } {
  const dbMb = Math.ceil((manifestBytes * MEMORY_MODEL.dbPerManifestByte) / 2 ** 20);
  return { dbMb, peakMb: Math.ceil(MEMORY_MODEL.peakPerDbMb * dbMb + MEMORY_MODEL.floorMb) };
}

/** Extra dependencies of the build-index stage. */
export interface BuildIndexDeps extends StageDeps {
  /**
   * Memory the build may use, in MB (the Lambda's memory size); a build estimated to need
   * more fails with IndexMemoryLimitError before it loads anything. Unset: no check.
   */
  memoryLimitMb?: number;
}

function checkMemory(
  request: BuildIndexRequest,
  manifestBytes: number,
  limitMb: number | undefined,
): void {
  if (limitMb === undefined) return;
  const { dbMb, peakMb } = estimateIndexMemoryMb(manifestBytes);
  const usable = Math.floor(limitMb * MEMORY_MODEL.headroom);
  if (peakMb <= usable) return;
  const needed = Math.ceil(peakMb / MEMORY_MODEL.headroom / 64) * 64;
  const raise =
    needed <= 10_240
      ? `raise the buildIndexMemory deployment parameter to at least ${needed} MB (docs/DEPLOY.md, "Org sizes")`
      : 'this is beyond one Lambda (10,240 MB): build the catalog with the CLI on a machine with that memory, or split the org';
  throw new IndexMemoryLimitError(
    `building the index of build ${request.buildId}: ${Math.round(manifestBytes / 2 ** 20)} MB of manifests make a database of about ${dbMb} MB and need about ${peakMb} MB (sql.js holds the database twice while exporting it), more than the ${usable} MB usable of this function's ${limitMb} MB; ${raise}`,
  );
}

/** What builds/<id>/warnings.json holds. */
export interface IndexWarnings {
  /** Upstream's single warning line (`error building database: …`), when there were problems. */
  summary?: string;
  /** Each load problem: the bundle, package or file it concerns, and the message. */
  problems: Problem[];
  /** Packages whose blob could not be decoded (they contributed nothing). */
  decoding: string[];
  /** `--manifest-dir`: the formats found, and folders skipped or mixed (each named). */
  formats?: ManifestFormats;
  detection?: string[];
  /** Bundle-format input: what became of each bundle folder or image. */
  bundles?: BundleOutcome[];
}

/** "3 bundle-format bundles in 1 package, 12 package-manifest files" for logs and errors. */
export function describeFormats(f: ManifestFormats): string {
  const parts: string[] = [];
  if (f.bundleFolders > 0)
    parts.push(
      `${f.bundleFolders} bundle-format bundle${f.bundleFolders === 1 ? '' : 's'} in ${f.bundlePackages} package folder${f.bundlePackages === 1 ? '' : 's'}`,
    );
  if (f.packageManifestFiles > 0 || parts.length === 0)
    parts.push(
      `${f.packageManifestFiles} package-manifest file${f.packageManifestFiles === 1 ? '' : 's'}`,
    );
  return parts.join(', ');
}

/** Where the catalog comes from: loaded whole, or handed over in parts (bounded memory). */
interface CatalogSource {
  whole?: LoadedCatalog;
  parts?: AsyncIterable<FileTree>;
  formats?: ManifestFormats;
  /** Format detection findings (manifest directories, bundle images). */
  detection: string[];
  /** Packages whose blob could not be decoded. */
  decoding: string[];
  /** Bundle-format input: what became of each bundle folder or image. */
  bundles?: BundleOutcome[];
  /** Bytes of manifests the parts will hold (what the memory estimate is made from). */
  manifestBytes?: number;
}

/** The top-level folder (or file) of a tree path: what walk order compares first. */
const rootOf = (path: string) => path.split('/', 1)[0]!;

/**
 * The fetched blobs as parts: each root folder's files, root folders in byte order, decoded
 * from the blobs that unpack into it (one, in practice: a blob unpacks under its repository or
 * package name). A first pass decodes every blob to learn its root folders and warnings,
 * keeping neither files nor bytes; the parts decode each blob again when its turn comes, so
 * one package is in memory at a time.
 */
async function blobSource(
  packages: FetchedPackage[],
  request: BuildIndexRequest,
  deps: StageDeps,
): Promise<CatalogSource> {
  const decode = async (p: FetchedPackage) =>
    decodePackageBlob(await deps.store.get(p.key), p.name, request.decodeLimits);
  const decoding: string[] = [];
  const blobsOf = new Map<string, number[]>();
  let fileCount = 0;
  let manifestBytes = 0;
  for (const [i, p] of packages.entries()) {
    const decoded = await decode(p);
    decoding.push(...decoded.warnings);
    fileCount += decoded.files.length;
    for (const f of decoded.files) manifestBytes += f.data.length;
    for (const root of new Set(decoded.files.map((f) => rootOf(f.path)))) {
      const list = blobsOf.get(root);
      if (list) list.push(i);
      else blobsOf.set(root, [i]);
    }
  }
  if (fileCount === 0) {
    // oc failed here too ("no manifests downloaded from appregistry …", oc#288): an index
    // without a single package would only hide that the org was empty or unreadable.
    throw new NoManifestsError(
      `building the index of build ${request.buildId}: no manifests downloaded (${decoding.length} of the packages could not be decoded)`,
    );
  }
  deps.log.info('loading manifests', { packages: packages.length, files: fileCount });
  async function* parts(): AsyncGenerator<FileTree> {
    let last: { index: number; files: FileTree } | undefined;
    for (const root of [...blobsOf.keys()].sort(compareBytes)) {
      const files: TreeFile[] = [];
      for (const i of blobsOf.get(root)!) {
        if (last?.index !== i) last = { index: i, files: (await decode(packages[i]!)).files };
        for (const f of last.files) if (rootOf(f.path) === root) files.push(f);
      }
      yield files;
    }
  }
  return { parts: parts(), detection: [], decoding, manifestBytes };
}

/**
 * A manifests directory: package-manifest folders in parts, read a part at a time (format
 * detection reads only annotations files); with bundle-format folders, whole, as
 * loadManifestDir joins the two formats.
 */
async function manifestDirSource(
  dir: string,
  rules: LoaderRules,
  deps: StageDeps,
): Promise<CatalogSource> {
  const { files, bytes } = await lazyManifestDir(dir);
  return manifestTreeSource(files, bytes, dir, rules, deps);
}

/**
 * Bundle-format (or package-manifest) folders under a key prefix of the store: listed, judged
 * by their total size against the function's memory, then read whole (bounded-parallel) —
 * they are in the bucket already, so there is nothing to pull and nothing to fan out: a Map
 * would only copy each object from one key to another before this stage read it anyway.
 */
async function storePrefixSource(
  prefix: string,
  request: BuildIndexRequest,
  rules: LoaderRules,
  deps: BuildIndexDeps,
): Promise<CatalogSource> {
  const listed = await listManifestPrefix(deps.store, prefix);
  checkMemory(request, listed.bytes, deps.memoryLimitMb);
  const files = await readManifestPrefix(deps.store, listed);
  return manifestTreeSource(files, listed.bytes, `${deps.store.location}/${prefix}`, rules, deps);
}

/** A tree of manifest folders, as format detection finds it: bundle-format and/or package manifests. */
function manifestTreeSource(
  files: FileTree,
  bytes: number,
  dir: string,
  rules: LoaderRules,
  deps: StageDeps,
): CatalogSource {
  const detected = detectManifestFormats(files);
  if (detected.bundles.length > 0) {
    const loaded = loadManifestDir(
      files.map((f) => ({ path: f.path, data: f.data })),
      { rules },
    );
    deps.log.info(`found ${describeFormats(loaded.formats)} in ${dir}`, { ...loaded.formats });
    return {
      whole: loaded.catalog,
      formats: loaded.formats,
      detection: loaded.warnings,
      decoding: [],
      bundles: loaded.bundles,
    };
  }
  const formats = { bundleFolders: 0, bundlePackages: 0, packageManifestFiles: files.length };
  deps.log.info(`found ${describeFormats(formats)} in ${dir}`, { ...formats });
  const byPath = new Map(files.map((f) => [f.path, f]));
  async function* parts(): AsyncGenerator<FileTree> {
    for (const group of walkOrderGroups([...byPath.keys()]))
      yield group.map((path) => ({ path, data: byPath.get(path)!.data }));
  }
  return {
    parts: parts(),
    formats,
    detection: detected.warnings,
    decoding: [],
    manifestBytes: bytes,
  };
}

/** Bundle images fetched into the store: their layers decoded, parsed, built into a catalog. */
async function catalogFromBundles(
  bundles: readonly FetchedBundle[],
  request: BuildIndexRequest,
  deps: StageDeps,
  rules: LoaderRules,
): Promise<{ catalog: LoadedCatalog; warnings: string[]; bundles: BundleOutcome[] }> {
  const folders = [];
  const unreadable: Problem[] = [];
  for (const b of bundles) {
    const layers = [];
    for (const l of b.layers)
      layers.push({ mediaType: l.mediaType, data: await deps.store.get(l.key) });
    try {
      folders.push({ dir: b.ref, files: bundleLayerFiles(b.ref, layers, request.decodeLimits) });
    } catch (err) {
      if (!(err instanceof BundleImageError)) throw err;
      unreadable.push({ subject: b.ref, kind: 'bundle', message: err.message });
    }
  }
  const parsed = parseBundleFolders(folders, (dir) => dir);
  // A bundle the fan-out could not pull (the pipeline: one Lambda per bundle) is a problem of
  // that bundle, like one whose layers cannot be read: named, left out, the build goes on.
  const unpulled = request.unpulled ?? [];
  for (const u of unpulled)
    unreadable.push({
      subject: u.ref,
      kind: 'bundle',
      message: `${u.error.message} (${u.error.name}; the bundle is left out)`,
    });
  parsed.problems.unshift(...unreadable);
  const built = loadBundleCatalog(parsed.inputs, rules);
  const catalog: LoadedCatalog = {
    ...built.catalog,
    problems: [...parsed.problems, ...built.catalog.problems],
    ...(parsed.dropped.length > 0 ? { dropped: parsed.dropped.map((d) => d.message) } : {}),
  };
  const pulled = bundleOutcomes(
    bundles.map((b) => b.ref),
    parsed,
    built,
    catalog,
  );
  // Back in list order: the unpulled at their positions, the pulled (in order) between them.
  const outcomes: BundleOutcome[] = [];
  const at = new Map(unpulled.map((u) => [u.index, u]));
  for (let i = 0, next = 0; i < bundles.length + unpulled.length; i++) {
    const u = at.get(i);
    outcomes.push(
      u
        ? {
            source: u.ref,
            outcome: 'refused',
            message: `not pulled: ${u.error.name}: ${u.error.message}`,
          }
        : pulled[next++]!,
    );
  }
  return { catalog, warnings: built.warnings, bundles: outcomes };
}

/** A catalog writer's output port over the store: files land under builds/<id>/. */
export function storeOutput(store: Store, buildId: string): CatalogOutput {
  const keys = buildKeys(buildId);
  return {
    writeFile: async (relative, data, contentType) => {
      await store.put(keys.catalogFile(relative), data, { contentType });
    },
    // A database leaves the writer in 1 MiB parts, each dropped once written.
    writeFileParts: async (relative, parts, contentType) => {
      await store.putStream(
        keys.catalogFile(relative),
        Readable.from(parts, { objectMode: false }),
        {
          contentType,
        },
      );
    },
  };
}

export async function buildIndex(
  request: BuildIndexRequest,
  deps: BuildIndexDeps,
): Promise<BuildIndexResult> {
  const keys = buildKeys(request.buildId);
  const format = request.indexFormat ?? DEFAULT_INDEX_FORMAT;
  const rules = loaderRulesFor(format);
  // A fixed time unless SOURCE_DATE_EPOCH says otherwise: the database's bytes then depend on
  // the manifests alone, so an unchanged upstream gives the same DB, layer and image digest.
  const migratedAt = new Date((request.sourceDateEpoch ?? 0) * 1000);
  const writer = await createCatalogWriter(format, {
    output: storeOutput(deps.store, request.buildId),
    migratedAt,
  });
  let source: CatalogSource;
  try {
    if (request.manifestDir !== undefined) {
      source = await manifestDirSource(request.manifestDir, rules, deps);
    } else if (request.bundlePrefix !== undefined) {
      source = await storePrefixSource(request.bundlePrefix, request, rules, deps);
    } else if (request.bundles !== undefined) {
      const built = await catalogFromBundles(request.bundles, request, deps, rules);
      source = {
        whole: built.catalog,
        formats: {
          bundleFolders: request.bundles.length + (request.unpulled?.length ?? 0),
          bundlePackages: 0,
          packageManifestFiles: 0,
        },
        detection: built.warnings,
        decoding: [],
        bundles: built.bundles,
      };
    } else {
      const packages = request.packages ?? (await readFetchedPackages(deps.store, request.buildId));
      source = await blobSource(packages, request, deps);
    }
  } catch (err) {
    writer.abort();
    throw err;
  }
  const { formats, detection, decoding } = source;
  if (source.manifestBytes !== undefined) {
    try {
      checkMemory(request, source.manifestBytes, deps.memoryLimitMb);
    } catch (err) {
      writer.abort();
      throw err;
    }
  }

  // Package by package: a part's files are read, decoded, encoded and written, then dropped;
  // only the output and what the package walk needs of each bundle stay (load-in-parts.ts).
  const memory = new MemoryWatch();
  let loaded: { bundles: number; packages: number; problems: Problem[]; dropped?: string[] };
  try {
    await writer.begin();
    if (source.whole) {
      const c = source.whole;
      for (const b of c.bundles) await writer.addBundle(b);
      for (const p of c.packages) await writer.addPackage(p);
      loaded = {
        bundles: c.bundles.length,
        packages: c.packages.length,
        problems: c.problems,
        ...(c.dropped ? { dropped: c.dropped } : {}),
      };
    } else {
      loaded = await loadCatalogInParts(
        source.parts!,
        {
          addBundle: async (b) => {
            await writer.addBundle(b);
            memory.step();
          },
          addPackage: (p) => writer.addPackage(p),
        },
        { rules },
      );
    }
  } catch (err) {
    writer.abort();
    throw err;
  }
  // A package left out for a decoding limit is a named warning, like an undecodable blob.
  decoding.push(...(loaded.dropped ?? []));
  const summary = problemsWarning(loaded);
  if (summary) deps.log.warn(summary);
  for (const w of [...detection, ...decoding]) deps.log.warn(w);
  if (loaded.packages === 0 && formats) {
    writer.abort();
    const first = loaded.problems[0] ?? detection[0];
    const why = typeof first === 'string' ? first : first?.message;
    throw new EmptyCatalogError(
      `building the index of build ${request.buildId}: no package could be loaded from ${request.manifestDir ?? (request.bundlePrefix !== undefined ? `${deps.store.location}/${request.bundlePrefix}` : `${request.bundles?.length ?? 0} bundle images`)} (found ${describeFormats(formats)}; ${loaded.bundles} bundles, ${loaded.problems.length} problems${why ? `, first: ${why}` : ''})`,
    );
  }

  memory.collect();
  let written: Awaited<ReturnType<CatalogWriter['finish']>>;
  try {
    written = await writer.finish();
  } catch (err) {
    writer.abort();
    throw err;
  }
  // What the writer itself refused (FBC: packages opm validate would reject) is a warning too.
  const writerProblems = written.problems ?? [];
  for (const p of writerProblems) deps.log.warn(p.message);
  const catalogFiles = written.files.map((f) => ({ ...f, key: keys.catalogFile(f.path) }));
  const db = catalogFiles.find((f) => f.path === DB_FILE);
  const warnings: IndexWarnings = {
    ...(summary ? { summary } : {}),
    problems: [...loaded.problems, ...writerProblems],
    decoding,
    ...(formats ? { formats, detection } : {}),
    ...(source.bundles && source.bundles.length > 0 ? { bundles: source.bundles } : {}),
  };
  await putJson(deps.store, keys.warnings, warnings);
  await putJson(deps.store, keys.catalogFiles, catalogFiles);
  return {
    buildId: request.buildId,
    indexFormat: format,
    dbKey: db?.key ?? '',
    dbDigest: db?.digest ?? '',
    dbSize: db?.size ?? 0,
    filesKey: keys.catalogFiles,
    fileCount: catalogFiles.length,
    fileBytes: catalogFiles.reduce((n, f) => n + f.size, 0),
    counts: written.counts,
    totals: written.totals,
    warningsKey: keys.warnings,
    warningCount:
      loaded.problems.length + writerProblems.length + decoding.length + detection.length,
    ...(formats ? { formats } : {}),
  };
}
