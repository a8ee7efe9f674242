// The same load as loadCatalog, in bounded memory: the manifests tree arrives as parts (root
// entries in walk order, e.g. one package folder each) and walk 1 runs part by part, handing
// each accepted bundle to a sink (the index writer) and keeping only what walk 2 needs of it
// (name, version, replaces, skips, skip range, APIs), never its decoded objects. What walk 2
// reads of the tree (package manifests, and files it would report as undecodable) is kept
// from each part; once every part was seen, walk 2 runs over those and hands each package to
// the sink. Bundles, packages and problems come out in exactly loadCatalog's order, because
// parts in walk order concatenate to the whole tree's walk and no folder spans two parts.
// The walks are a synchronous class (PartsWalk) so a caller can run walk 1 over other inputs
// too (bundle-format folders after package-manifest ones) before any package is handed on.
import type { FileTree } from './file-tree.js';
import { loadBundles } from './load-bundles.js';
import { loadPackages, toPackageManifest } from './load-packages.js';
import { decodedParts, type ManifestFile, manifestTree } from './manifest-tree.js';
import type { Bundle, LoaderRules, LoadOptions, Package, Problem } from './model.js';
import type { DocumentLimits, DocumentResult } from './yaml-document.js';

/** Where the loaded catalog goes, piece by piece: every bundle before any package. */
export interface CatalogSink {
  addBundle(bundle: Bundle): Promise<void>;
  addPackage(pkg: Package): Promise<void>;
}

export interface PartsLoadResult {
  bundles: number;
  packages: number;
  problems: Problem[];
  /** Package directories left out for a decoding limit (manifestTree's named warnings). */
  dropped: string[];
}

/** Whether walk 2 (loadPackages) would look at the file: a package or an undecodable file. */
function walk2Reads(file: ManifestFile): boolean {
  const doc = file.document;
  if (!doc.ok) return true;
  try {
    return toPackageManifest(doc.value).packageName !== '';
  } catch {
    return true;
  }
}

/**
 * A copy whose strings own their characters. A string the YAML parser sliced out of a file
 * (a bundle's name, its version, an image) points into the whole file's text, so keeping
 * the slice would keep every CSV of the catalog in memory; parsing the JSON text of a value
 * makes fresh strings.
 */
export function detached<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** A first document as walk 2 reads it, detached unless it holds a BigInt (int64) value. */
function detachedDocument(doc: DocumentResult): DocumentResult {
  try {
    return detached(doc);
  } catch {
    return doc;
  }
}

/**
 * What walk 2 needs of a bundle (load-packages.ts reads its name, version, image, replaces,
 * skips and skip range): nothing of its objects, APIs, images or properties.
 */
export function bundleSummary(b: Bundle): Bundle {
  const { name, dir, image, version, skipRange, replaces, skips } = b;
  return {
    ...detached({
      name,
      dir,
      ...(image === undefined ? {} : { image }),
      version,
      skipRange,
      replaces,
      skips,
    }),
    csv: {},
    objects: [],
    relatedImages: [],
    provided: [],
    required: [],
    properties: [],
    dependencies: [],
  };
}

/** Walk 1 part by part (addPart), then walk 2 once (finish). */
export class PartsWalk {
  private readonly names = new Set<string>();
  private readonly kept: Bundle[] = [];
  private readonly walk2Files: ManifestFile[] = [];
  readonly problems: Problem[] = [];
  readonly dropped: string[] = [];

  constructor(
    private readonly rules: LoaderRules,
    private readonly limits?: DocumentLimits,
  ) {}

  /** Names of the bundles walk 1 accepted so far. */
  get bundleNames(): ReadonlySet<string> {
    return this.names;
  }

  get bundleCount(): number {
    return this.kept.length;
  }

  /** Walk 1 over one part: the bundles it accepted, whole, for the sink (not kept here). */
  addPart(part: FileTree): Bundle[] {
    const tree = manifestTree(part, this.limits);
    this.dropped.push(...tree.dropped);
    const walk1 = loadBundles(tree, this.rules, this.names);
    this.problems.push(...detached(walk1.problems));
    for (const b of walk1.bundles) {
      const kept1 = bundleSummary(b);
      this.kept.push(kept1);
      this.names.delete(b.name);
      this.names.add(kept1.name);
    }
    // Walk 2 reads only a file's path and first document (the decoder's copy: a manifest
    // file holds neither its bytes nor the tree's getter for them).
    for (const f of tree.files) {
      if (walk2Reads(f))
        this.walk2Files.push({
          path: f.path,
          dir: f.dir,
          name: f.name,
          document: detachedDocument(f.document),
        });
    }
    return walk1.bundles;
  }

  /** Walk 2 over the package manifests seen: the packages, and walk 2's problems appended. */
  finish(): Package[] {
    const walk2 = loadPackages(
      { files: this.walk2Files, filesIn: () => [], dropped: [] },
      this.kept,
      this.rules,
    );
    this.problems.push(...walk2.problems);
    return walk2.packages;
  }
}

export async function loadCatalogInParts(
  parts: AsyncIterable<FileTree>,
  sink: CatalogSink,
  options: LoadOptions = {},
): Promise<PartsLoadResult> {
  const walk = new PartsWalk(options.rules ?? 'v1.8.0', options.limits);
  for await (const part of decodedParts(parts, options))
    for (const b of walk.addPart(part)) await sink.addBundle(b);
  const packages = walk.finish();
  for (const p of packages) await sink.addPackage(p);
  return {
    bundles: walk.bundleCount,
    packages: packages.length,
    problems: walk.problems,
    dropped: walk.dropped,
  };
}
