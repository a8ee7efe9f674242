// The same load as loadCatalog, in bounded memory: the manifests tree arrives as parts (root
// entries in walk order, e.g. one package folder each) and walk 1 runs part by part, handing
// each accepted bundle to a sink (the index writer) and keeping only what walk 2 needs of it
// (name, version, replaces, skips, skip range, APIs), never its decoded objects. What walk 2
// reads of the tree (package manifests, and files it would report as undecodable) is kept
// from each part; once every part was seen, walk 2 runs over those and hands each package to
// the sink. Bundles, packages and problems come out in exactly loadCatalog's order, because
// parts in walk order concatenate to the whole tree's walk and no folder spans two parts.
import type { FileTree } from './file-tree.js';
import { loadBundles } from './load-bundles.js';
import { loadPackages, toPackageManifest } from './load-packages.js';
import { type ManifestFile, manifestTree } from './manifest-tree.js';
import type { Bundle, LoadOptions, Package, Problem } from './model.js';
import type { DocumentResult } from './yaml-document.js';

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

const EMPTY = new Uint8Array(0);

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
function detached<T>(value: T): T {
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
function summary(b: Bundle): Bundle {
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

export async function loadCatalogInParts(
  parts: AsyncIterable<FileTree>,
  sink: CatalogSink,
  options: LoadOptions = {},
): Promise<PartsLoadResult> {
  const rules = options.rules ?? 'v1.8.0';
  const names = new Set<string>();
  const kept: Bundle[] = [];
  const walk2Files: ManifestFile[] = [];
  const problems: Problem[] = [];
  const dropped: string[] = [];
  for await (const part of parts) {
    const tree = manifestTree(part, options.limits);
    dropped.push(...tree.dropped);
    const walk1 = loadBundles(tree, rules, names);
    problems.push(...detached(walk1.problems));
    for (const b of walk1.bundles) {
      await sink.addBundle(b);
      const kept1 = summary(b);
      kept.push(kept1);
      names.delete(b.name);
      names.add(kept1.name);
    }
    // Walk 2 reads only a file's path and first document; its bytes may be a view of a
    // whole package blob, so they are not kept.
    for (const f of tree.files) {
      if (walk2Reads(f))
        walk2Files.push({
          path: f.path,
          dir: f.dir,
          name: f.name,
          data: EMPTY,
          document: detachedDocument(f.document),
        });
    }
  }
  const walk2 = loadPackages({ files: walk2Files, filesIn: () => [], dropped: [] }, kept, rules);
  problems.push(...walk2.problems);
  for (const p of walk2.packages) await sink.addPackage(p);
  return { bundles: kept.length, packages: walk2.packages.length, problems, dropped };
}
