// Stage: build the catalog. Input is a local manifests directory (offline CLI builds;
// package-manifest and/or bundle-format folders), the package blobs fetch-package left in the
// store (decoded in memory, as oc unpacked them on disk), or the bundle image layers
// fetch-bundle left there; the request's index format (lib/index/catalog-formats.ts) picks the
// loader rules and the catalog writer, whose files land under builds/<id>/ (bundles.db for
// the SQLite formats), next to warnings.json. Load problems are warnings, never failures,
// exactly as upstream's permissive load; the result carries the files' keys and digests and
// the counts, so later stages and the report need no bytes.
import { decodePackageBlob } from '../appregistry/decode.js';
import { loadBundleCatalog } from '../catalog/bundle-catalog.js';
import type { FileTree } from '../catalog/file-tree.js';
import { loadCatalog, problemsWarning } from '../catalog/load-catalog.js';
import {
  loadManifestDir,
  type ManifestFormats,
  parseBundleFolders,
} from '../catalog/load-manifest-dir.js';
import type { LoadedCatalog, LoaderRules, Problem } from '../catalog/model.js';
import { CatalogError } from '../errors.js';
import {
  createCatalogWriter,
  DEFAULT_INDEX_FORMAT,
  loaderRulesFor,
} from '../index/catalog-formats.js';
import { type CatalogOutput, writeCatalog } from '../index/catalog-writer.js';
import { DB_FILE } from '../index/write-index.js';
import { bundleLayerFiles } from '../registry/bundle-image.js';
import { buildKeys } from '../store/keys.js';
import { readManifestDir } from '../store/manifest-dir.js';
import { putJson, type Store } from '../store/store.js';
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

async function treeFromPackages(
  packages: FetchedPackage[],
  request: BuildIndexRequest,
  deps: StageDeps,
) {
  const files: FileTree[number][] = [];
  const decoding: string[] = [];
  for (const p of packages) {
    const decoded = decodePackageBlob(await deps.store.get(p.key), p.name, request.decodeLimits);
    decoding.push(...decoded.warnings);
    files.push(...decoded.files);
  }
  return { files, decoding };
}

/** Bundle images fetched into the store: their layers decoded, parsed, built into a catalog. */
async function catalogFromBundles(
  bundles: readonly FetchedBundle[],
  request: BuildIndexRequest,
  deps: StageDeps,
  rules: LoaderRules,
): Promise<{ catalog: LoadedCatalog; warnings: string[] }> {
  const folders = [];
  for (const b of bundles) {
    const layers = [];
    for (const l of b.layers)
      layers.push({ mediaType: l.mediaType, data: await deps.store.get(l.key) });
    folders.push({ dir: b.ref, files: bundleLayerFiles(b.ref, layers, request.decodeLimits) });
  }
  const parsed = parseBundleFolders(folders, (dir) => dir);
  const built = loadBundleCatalog(parsed.inputs, rules);
  return {
    catalog: { ...built.catalog, problems: [...parsed.problems, ...built.catalog.problems] },
    warnings: built.warnings,
  };
}

/** A catalog writer's output port over the store: files land under builds/<id>/. */
export function storeOutput(store: Store, buildId: string): CatalogOutput {
  const keys = buildKeys(buildId);
  return {
    writeFile: async (relative, data, contentType) => {
      await store.put(keys.catalogFile(relative), data, { contentType });
    },
  };
}

export async function buildIndex(
  request: BuildIndexRequest,
  deps: StageDeps,
): Promise<BuildIndexResult> {
  const keys = buildKeys(request.buildId);
  const format = request.indexFormat ?? DEFAULT_INDEX_FORMAT;
  const rules = loaderRulesFor(format);
  const migratedAt =
    request.sourceDateEpoch !== undefined
      ? new Date(request.sourceDateEpoch * 1000)
      : (deps.now?.() ?? new Date());
  const writer = await createCatalogWriter(format, {
    output: storeOutput(deps.store, request.buildId),
    migratedAt,
  });
  let files: FileTree;
  let decoding: string[] = [];
  if (request.manifestDir !== undefined) {
    files = await readManifestDir(request.manifestDir);
  } else if (request.bundles !== undefined) {
    files = [];
  } else {
    const packages = request.packages ?? (await readFetchedPackages(deps.store, request.buildId));
    ({ files, decoding } = await treeFromPackages(packages, request, deps));
  }
  if (files.length === 0 && request.bundles === undefined) {
    // oc failed here too ("no manifests downloaded from appregistry …", oc#288): an index
    // without a single package would only hide that the org was empty or unreadable.
    throw new NoManifestsError(
      `building the index of build ${request.buildId}: no manifests downloaded (${decoding.length} of the packages could not be decoded)`,
    );
  }
  deps.log.info('loading manifests', { files: files.length });
  let catalog: LoadedCatalog;
  let formats: ManifestFormats | undefined;
  let detection: string[] = [];
  if (request.manifestDir !== undefined) {
    ({ catalog, formats, warnings: detection } = loadManifestDir(files, { rules }));
    deps.log.info(`found ${describeFormats(formats)} in ${request.manifestDir}`, { ...formats });
  } else if (request.bundles !== undefined) {
    ({ catalog, warnings: detection } = await catalogFromBundles(
      request.bundles,
      request,
      deps,
      rules,
    ));
    formats = { bundleFolders: request.bundles.length, bundlePackages: 0, packageManifestFiles: 0 };
  } else catalog = loadCatalog(files, { rules });
  // The raw bytes are no longer needed once decoded: let them go before sql.js grows.
  files = [];
  const summary = problemsWarning(catalog);
  if (summary) deps.log.warn(summary);
  for (const w of [...detection, ...decoding]) deps.log.warn(w);
  if (catalog.packages.length === 0 && formats) {
    const first = catalog.problems[0] ?? detection[0];
    const why = typeof first === 'string' ? first : first?.message;
    throw new EmptyCatalogError(
      `building the index of build ${request.buildId}: no package could be loaded from ${request.manifestDir ?? `${request.bundles?.length ?? 0} bundle images`} (found ${describeFormats(formats)}; ${catalog.bundles.length} bundles, ${catalog.problems.length} problems${why ? `, first: ${why}` : ''})`,
    );
  }

  const written = await writeCatalog(writer, catalog);
  const catalogFiles = written.files.map((f) => ({ ...f, key: keys.catalogFile(f.path) }));
  const db = catalogFiles.find((f) => f.path === DB_FILE);
  const warnings: IndexWarnings = {
    ...(summary ? { summary } : {}),
    problems: catalog.problems,
    decoding,
    ...(formats ? { formats, detection } : {}),
  };
  await putJson(deps.store, keys.warnings, warnings);
  return {
    buildId: request.buildId,
    indexFormat: format,
    dbKey: db?.key ?? '',
    dbDigest: db?.digest ?? '',
    dbSize: db?.size ?? 0,
    files: catalogFiles,
    counts: written.counts,
    totals: written.totals,
    warningsKey: keys.warnings,
    warningCount: catalog.problems.length + decoding.length + detection.length,
    ...(formats ? { formats } : {}),
  };
}
