// Stage: build the operator-registry index. Input is a local manifests directory (offline CLI
// builds; package-manifest and/or bundle-format folders), the package blobs fetch-package left
// in the store (decoded in memory, as oc unpacked them on disk), or the bundle image layers
// fetch-bundle left there; output is builds/<id>/bundles.db and warnings.json.
// Load problems are warnings, never failures, exactly as upstream's permissive load; the
// result carries counts and the DB digest so later stages and the report need no bytes.
import { decodePackageBlob } from '../appregistry/decode.js';
import { loadBundleCatalog } from '../catalog/bundle-catalog.js';
import type { FileTree } from '../catalog/file-tree.js';
import { loadCatalog, problemsWarning } from '../catalog/load-catalog.js';
import {
  loadManifestDir,
  type ManifestFormats,
  parseBundleFolders,
} from '../catalog/load-manifest-dir.js';
import type { LoadedCatalog, Problem } from '../catalog/model.js';
import { CatalogError } from '../errors.js';
import { sha256Digest } from '../image/digest.js';
import { loadSqlJs } from '../index/sqljs.js';
import { writeIndex } from '../index/write-index.js';
import { bundleLayerFiles } from '../registry/bundle-image.js';
import { buildKeys } from '../store/keys.js';
import { readManifestDir } from '../store/manifest-dir.js';
import { putJson } from '../store/store.js';
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
): Promise<{ catalog: LoadedCatalog; warnings: string[] }> {
  const folders = [];
  for (const b of bundles) {
    const layers = [];
    for (const l of b.layers)
      layers.push({ mediaType: l.mediaType, data: await deps.store.get(l.key) });
    folders.push({ dir: b.ref, files: bundleLayerFiles(b.ref, layers, request.decodeLimits) });
  }
  const parsed = parseBundleFolders(folders, (dir) => dir);
  const built = loadBundleCatalog(parsed.inputs);
  return {
    catalog: { ...built.catalog, problems: [...parsed.problems, ...built.catalog.problems] },
    warnings: built.warnings,
  };
}

export async function buildIndex(
  request: BuildIndexRequest,
  deps: StageDeps,
): Promise<BuildIndexResult> {
  const keys = buildKeys(request.buildId);
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
    ({ catalog, formats, warnings: detection } = loadManifestDir(files));
    deps.log.info(`found ${describeFormats(formats)} in ${request.manifestDir}`, { ...formats });
  } else if (request.bundles !== undefined) {
    ({ catalog, warnings: detection } = await catalogFromBundles(request.bundles, request, deps));
    formats = { bundleFolders: request.bundles.length, bundlePackages: 0, packageManifestFiles: 0 };
  } else catalog = loadCatalog(files);
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

  const migratedAt =
    request.sourceDateEpoch !== undefined
      ? new Date(request.sourceDateEpoch * 1000)
      : (deps.now?.() ?? new Date());
  const { bytes, counts } = writeIndex(await loadSqlJs(), catalog, { migratedAt });
  await deps.store.put(keys.db, bytes, { contentType: 'application/vnd.sqlite3' });
  const warnings: IndexWarnings = {
    ...(summary ? { summary } : {}),
    problems: catalog.problems,
    decoding,
    ...(formats ? { formats, detection } : {}),
  };
  await putJson(deps.store, keys.warnings, warnings);
  return {
    buildId: request.buildId,
    dbKey: keys.db,
    dbDigest: sha256Digest(bytes),
    dbSize: bytes.length,
    counts,
    warningsKey: keys.warnings,
    warningCount: catalog.problems.length + decoding.length + detection.length,
    ...(formats ? { formats } : {}),
  };
}
