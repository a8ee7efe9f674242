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
// Each source's own decoders (App Registry blobs, bundle image layers) are imported when that
// source is built, so a --manifest-dir build does not load them.
import { Readable } from 'node:stream';
import { BundleCatalogWalk } from '../catalog/bundle-catalog.js';
import { detectManifestFormats } from '../catalog/detect-format.js';
import { compareBytes, type FileTree, type TreeFile } from '../catalog/file-tree.js';
import { problemsWarning } from '../catalog/load-catalog.js';
import { type CatalogSink, loadCatalogInParts } from '../catalog/load-in-parts.js';
import {
  addBundleItems,
  type BundleOutcome,
  bundleOutcomes,
  loadManifestDirInParts,
  type ManifestFormats,
} from '../catalog/load-manifest-dir.js';
import type { DocumentDecoder } from '../catalog/manifest-tree.js';
import type { LoaderRules, Problem } from '../catalog/model.js';
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
 * is about 1.2x the manifests' bytes (1.13-1.19x measured, 1.25 assumed) and is held once
 * (lib/index/paged-file.ts), and the rest grows slowly with the catalog (90 MiB for the dev
 * corpus, 149 MiB at 1,000 packages, 260 MiB at 5,000: node, SQLite's wasm heap and what
 * walk 2 keeps of each bundle). The estimate is 1.25x the DB + 120 MiB, above every measured
 * peak (the Lambda also loads the AWS SDK, which the CLI build does not).
 */
export const MEMORY_MODEL = {
  dbPerManifestByte: 1.25,
  peakPerDbMb: 1.25,
  floorMb: 120,
  headroom: 0.95,
} as const;

export function estimateIndexMemoryMb(manifestBytes: number): { dbMb: number; peakMb: number } {
  const dbMb = Math.ceil((manifestBytes * MEMORY_MODEL.dbPerManifestByte) / 2 ** 20);
  return { dbMb, peakMb: Math.ceil(MEMORY_MODEL.peakPerDbMb * dbMb + MEMORY_MODEL.floorMb) };
}

/**
 * A bundlePrefix is read into memory whole before the (bounded) load: the folders' bytes, plus
 * what the loader and writer hold. The pipeline's prefix build of the 53 MB, 473-bundle
 * reference set peaked at 236 MiB (fbc) and 257 MiB (sqlite) (docs/BENCHMARKS.md), about 2.6x
 * the folders' bytes above 120 MB; 3x + 120 MB is assumed. The package-manifest model above
 * would say 203 MB.
 */
export const BUNDLE_FOLDERS_PEAK_PER_BYTE = 3;

export function estimateBundleFoldersMemoryMb(bytes: number): { dbMb: number; peakMb: number } {
  return {
    dbMb: estimateIndexMemoryMb(bytes).dbMb,
    peakMb: Math.ceil((BUNDLE_FOLDERS_PEAK_PER_BYTE * bytes) / 2 ** 20 + MEMORY_MODEL.floorMb),
  };
}

/** Extra dependencies of the build-index stage. */
export interface BuildIndexDeps extends StageDeps {
  /**
   * Memory the build may use, in MB (the Lambda's memory size); a build estimated to need
   * more fails with IndexMemoryLimitError before it loads anything. Unset: no check.
   */
  memoryLimitMb?: number;
  /**
   * In-process only (the CLI): the build's bundle images while they are still being pulled,
   * one promise per reference in list order (fetch-bundle's startBundlePulls). Each bundle is
   * loaded as soon as its own layers are in the store, so the pulls of later images overlap the
   * loading of earlier ones; the order of the load, and so the output, is the list's. Used
   * instead of `request.bundles`; a rejected pull fails the build with its error.
   */
  pullingBundles?: { refs: readonly string[]; each: readonly Promise<FetchedBundle>[] };
  /**
   * In-process only (the CLI): decodes package-manifest parts ahead of the load, on another
   * thread (WorkerDocumentDecoder). Unset: each file is decoded in place.
   */
  decoder?: DocumentDecoder;
}

function checkMemory(
  request: BuildIndexRequest,
  manifestBytes: number,
  limitMb: number | undefined,
  estimate: (bytes: number) => { dbMb: number; peakMb: number } = estimateIndexMemoryMb,
): void {
  if (limitMb === undefined) return;
  const { dbMb, peakMb } = estimate(manifestBytes);
  const usable = Math.floor(limitMb * MEMORY_MODEL.headroom);
  if (peakMb <= usable) return;
  const needed = Math.ceil(peakMb / MEMORY_MODEL.headroom / 64) * 64;
  const raise =
    needed <= 10_240
      ? `raise the buildIndexMemory deployment parameter to at least ${needed} MB (docs/DEPLOY.md, "Org sizes")`
      : 'this is beyond one Lambda (10,240 MB): build the catalog with the CLI on a machine with that memory, or split the org';
  throw new IndexMemoryLimitError(
    `building the index of build ${request.buildId}: ${Math.round(manifestBytes / 2 ** 20)} MB of manifests make a database of about ${dbMb} MB and need about ${peakMb} MB, more than the ${usable} MB usable of this function's ${limitMb} MB; ${raise}`,
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

/** What a source's load handed to the writer, and what it found on the way. */
interface SourceLoad {
  bundles: number;
  packages: number;
  problems: Problem[];
  /** Package directories (or bundle folders) left out for a decoding limit. */
  dropped?: string[];
  formats?: ManifestFormats;
  /** Format detection findings and upstream-order caveats (manifest directories, bundles). */
  detection: string[];
  /** Bundle-format input: what became of each bundle folder or image. */
  outcomes?: BundleOutcome[];
}

/**
 * Where the catalog comes from, always handed over in parts (bounded memory): a package folder,
 * a package blob or one bundle at a time goes to the writer, then the packages.
 */
interface CatalogSource {
  load(sink: CatalogSink): Promise<SourceLoad>;
  /** Packages whose blob could not be decoded. */
  decoding: string[];
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
  deps: BuildIndexDeps,
  rules: LoaderRules,
): Promise<CatalogSource> {
  const { decodePackageBlob } = await import('../appregistry/decode.js');
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
  return {
    load: async (sink) => ({
      ...(await loadCatalogInParts(parts(), sink, { rules, decoder: deps.decoder })),
      detection: [],
    }),
    decoding,
    manifestBytes,
  };
}

/**
 * A manifests directory, its files read when their part is loaded (format detection reads
 * only annotations files and top-level manifests).
 */
async function manifestDirSource(
  dir: string,
  rules: LoaderRules,
  deps: BuildIndexDeps,
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
  // Judged as bundle folders (loaded whole), before a byte is read; a prefix of package
  // manifests is over-estimated by this, and checked again with its own model once detected.
  checkMemory(request, listed.bytes, deps.memoryLimitMb, estimateBundleFoldersMemoryMb);
  const files = await readManifestPrefix(deps.store, listed);
  return manifestTreeSource(files, listed.bytes, `${deps.store.location}/${prefix}`, rules, deps);
}

/**
 * A tree of manifest folders, as format detection finds it: package-manifest folders one at a
 * time, bundle-format folders one bundle at a time (loadManifestDirInParts).
 */
function manifestTreeSource(
  files: FileTree,
  bytes: number,
  dir: string,
  rules: LoaderRules,
  deps: BuildIndexDeps,
): CatalogSource {
  const detected = detectManifestFormats(files);
  const formats: ManifestFormats = {
    bundleFolders: detected.bundles.length,
    bundlePackages: detected.bundlePackages.length,
    packageManifestFiles: detected.packageManifestFiles.length,
  };
  deps.log.info(`found ${describeFormats(formats)} in ${dir}`, { ...formats });
  return {
    load: async (sink) => {
      const loaded = await loadManifestDirInParts(files, sink, { rules, decoder: deps.decoder });
      return { ...loaded, detection: loaded.warnings };
    },
    decoding: [],
    // The memory model is fitted to package-manifest catalogs in SQLite (see MEMORY_MODEL).
    ...(detected.bundles.length === 0 ? { manifestBytes: bytes } : {}),
  };
}

/**
 * Bundle images fetched into the store, one at a time in list order: its layers read from the
 * store and decoded, parsed and inserted (an image whose layers cannot be read, or that the
 * fan-out could not pull, is a problem naming it; the build goes on). `fetched(i)` may wait
 * for the image's pull to finish (the CLI loads while later images are still being pulled).
 */
function bundleImageSource(
  refs: readonly string[],
  fetched: (index: number) => FetchedBundle | Promise<FetchedBundle>,
  request: BuildIndexRequest,
  deps: StageDeps,
  rules: LoaderRules,
): CatalogSource {
  return {
    load: async (sink) => {
      const { BundleImageError, bundleLayerFiles } = await import(
        '../catalog-source/bundle-image.js'
      );
      const walk = new BundleCatalogWalk(rules);
      const items = refs.map((ref, i) => ({
        where: ref,
        image: ref,
        files: async () => {
          const b = await fetched(i);
          const layers = [];
          for (const l of b.layers)
            layers.push({ mediaType: l.mediaType, data: await deps.store.get(l.key) });
          return bundleLayerFiles(b.ref, layers, request.decodeLimits);
        },
      }));
      const added = await addBundleItems(walk, items, sink, { unreadable: BundleImageError });
      // A bundle the fan-out could not pull (the pipeline: one Lambda per bundle) is a problem
      // of that bundle, like one whose layers cannot be read: named, left out.
      const unpulled = request.unpulled ?? [];
      const notPulled: Problem[] = unpulled.map((u) => ({
        subject: u.ref,
        kind: 'bundle',
        message: `${u.error.message} (${u.error.name}; the bundle is left out)`,
      }));
      const packages = walk.finish();
      const problems = [
        ...added.unreadable,
        ...notPulled,
        ...added.unparsable,
        ...added.conflicts,
        ...walk.problems,
      ];
      for (const p of packages) await sink.addPackage(p);
      const pulled = bundleOutcomes(
        refs,
        { records: added.records, problems: added.problems, dropped: added.dropped },
        walk,
        { packages, problems },
      );
      // Back in list order: the unpulled at their positions, the pulled (in order) between them.
      const outcomes: BundleOutcome[] = [];
      const at = new Map(unpulled.map((u) => [u.index, u]));
      for (let i = 0, next = 0; i < refs.length + unpulled.length; i++) {
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
      return {
        bundles: walk.bundleCount,
        packages: packages.length,
        problems,
        dropped: added.dropped.map((d) => d.message),
        formats: {
          bundleFolders: refs.length + unpulled.length,
          bundlePackages: 0,
          packageManifestFiles: 0,
        },
        detection: walk.warnings,
        outcomes,
      };
    },
    decoding: [],
  };
}

/** A catalog writer's output port over the store: files land under builds/<id>/. */
export function storeOutput(store: Store, buildId: string): CatalogOutput {
  const keys = buildKeys(buildId);
  return {
    writeFile: async (relative, data, contentType) => {
      await store.put(keys.catalogFile(relative), data, { contentType });
    },
    // A database leaves the writer in parts (its chunks, 1 MiB doubling to 256 MiB), each
    // dropped once written.
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
  // Garbage is collected between steps: after each bundle, and after each file a writer puts
  // out (an FBC writer's finish() makes every package's files, one after the other).
  const memory = new MemoryWatch();
  const output = storeOutput(deps.store, request.buildId);
  let writer: CatalogWriter | undefined;
  // The writer is made while the source is found (a manifests directory listed and its files
  // stat'ed), not before it: sql.js compiles SQLite's wasm meanwhile, mostly off the main
  // thread, which a dev-corpus build otherwise spent waiting (docs/BENCHMARKS.md, "Dev corpus
  // side by side"). Its failure is seen where it is awaited.
  const pendingWriter = createCatalogWriter(format, {
    output: {
      ...output,
      writeFile: async (path, data, contentType) => {
        await output.writeFile(path, data, contentType);
        // As after each bundle: what the writer holds on purpose is not garbage.
        memory.step(writer?.heldBytes?.());
      },
    },
    migratedAt,
  });
  pendingWriter.catch(() => {});
  // Whatever fails between here and a finished catalog aborts the writer (its partial output
  // goes) before the error goes on.
  const writeCatalog = async () => {
    let source: CatalogSource;
    if (request.manifestDir !== undefined) {
      source = await manifestDirSource(request.manifestDir, rules, deps);
    } else if (request.bundlePrefix !== undefined) {
      source = await storePrefixSource(request.bundlePrefix, request, rules, deps);
    } else if (deps.pullingBundles !== undefined) {
      const { refs, each } = deps.pullingBundles;
      source = bundleImageSource(refs, (i) => each[i]!, request, deps, rules);
    } else if (request.bundles !== undefined) {
      const { bundles } = request;
      source = bundleImageSource(
        bundles.map((b) => b.ref),
        (i) => bundles[i]!,
        request,
        deps,
        rules,
      );
    } else {
      const packages = request.packages ?? (await readFetchedPackages(deps.store, request.buildId));
      source = await blobSource(packages, request, deps, rules);
    }
    const { decoding } = source;
    if (source.manifestBytes !== undefined)
      checkMemory(request, source.manifestBytes, deps.memoryLimitMb);

    // The writer is opened (its wasm ready, its tables made) when the first bundle reaches it:
    // the load has by then asked for its first parts, which a decoder decodes meanwhile.
    let opened: Promise<CatalogWriter> | undefined;
    const openWriter = () =>
      (opened ??= pendingWriter.then(async (w) => {
        writer = w;
        await w.begin();
        return w;
      }));
    // Part by part: a package's (or a bundle's) files are read, decoded, encoded and written,
    // then dropped; only the output and what the package walks need of each bundle stay.
    const loaded: SourceLoad = await source.load({
      addBundle: async (b) => {
        const open = await openWriter();
        await open.addBundle(b);
        memory.step(open.heldBytes?.());
      },
      addPackage: async (p) => (await openWriter()).addPackage(p),
    });
    const { formats, detection } = loaded;
    // A package left out for a decoding limit is a named warning, like an undecodable blob.
    decoding.push(...(loaded.dropped ?? []));
    const summary = problemsWarning(loaded);
    if (summary) deps.log.warn(summary);
    for (const w of [...detection, ...decoding]) deps.log.warn(w);
    if (loaded.packages === 0 && formats) {
      const first = loaded.problems[0] ?? detection[0];
      const why = typeof first === 'string' ? first : first?.message;
      throw new EmptyCatalogError(
        `building the index of build ${request.buildId}: no package could be loaded from ${request.manifestDir ?? (request.bundlePrefix !== undefined ? `${deps.store.location}/${request.bundlePrefix}` : `${(deps.pullingBundles?.refs ?? request.bundles)?.length ?? 0} bundle images`)} (found ${describeFormats(formats)}; ${loaded.bundles} bundles, ${loaded.problems.length} problems${why ? `, first: ${why}` : ''})`,
      );
    }

    const open = await openWriter();
    memory.collect(open.heldBytes?.());
    const written = await open.finish();
    return { loaded, decoding, summary, written };
  };
  const { loaded, decoding, summary, written } = await writeCatalog().catch((err: unknown) => {
    writer?.abort();
    throw err;
  });
  const { formats, detection } = loaded;
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
    ...(loaded.outcomes && loaded.outcomes.length > 0 ? { bundles: loaded.outcomes } : {}),
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
