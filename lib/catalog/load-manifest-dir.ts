// A manifests directory in either format, or both: package-manifest packages go through the
// package-manifest loader as before, bundle-format folders are parsed and built into a catalog
// the way `opm registry add` would (bundle-catalog.ts), and the two are joined (bundle-format
// packages after package-manifest ones, entry ids continuing). What was found is described
// (`formats`) so the CLI can say it, and each skipped folder or refused bundle is a named
// problem or warning, never silence.
// It runs in bounded memory (loadManifestDirInParts): a package folder or one bundle is read,
// decoded and handed to the sink (an index writer) at a time, and only what the package walks
// and the report need is kept; loadManifestDir is the same load collected in memory.
import {
  type BundleCatalog,
  BundleCatalogWalk,
  type BundleInput,
  type BundleRecord,
  bundleRecord,
} from './bundle-catalog.js';
import { BundleFormatError, parseBundleFormat } from './bundle-format.js';
import { detectManifestFormats } from './detect-format.js';
import { type FileTree, walkOrderGroups } from './file-tree.js';
import { type CatalogSink, PartsWalk } from './load-in-parts.js';
import { decodedParts } from './manifest-tree.js';
import type { Bundle, LoadedCatalog, LoaderRules, LoadOptions, Package, Problem } from './model.js';
import { DocumentLimitError } from './yaml-document.js';

export interface ManifestFormats {
  /** Bundle-format bundle folders found (parsed or not). */
  bundleFolders: number;
  /** Bundle-format package folders. */
  bundlePackages: number;
  /** Files left to the package-manifest loader. */
  packageManifestFiles: number;
}

/** What became of one bundle folder or image, for the report. */
export interface BundleOutcome {
  /** The folder or image reference. */
  source: string;
  /** The CSV name, when the bundle could be read. */
  name?: string;
  package?: string;
  /** `loaded`: in at least one channel; `not in a channel`: inserted but no channel reaches it (not in an FBC); `refused`: see message. */
  outcome: 'loaded' | 'not in a channel' | 'refused';
  channels?: string[];
  message?: string;
}

/**
 * Each source's outcome, in source order, from its parse (the records of the bundles that
 * parsed, and the problems of those that did not), its insert and the channel graph.
 */
export function bundleOutcomes(
  sources: readonly string[],
  parsed: {
    records: readonly BundleRecord[];
    problems: readonly Problem[];
    dropped?: readonly Problem[];
  },
  built: Pick<BundleCatalog, 'inserted'>,
  catalog: Pick<LoadedCatalog, 'packages' | 'problems'>,
): BundleOutcome[] {
  const parseProblem = new Map(
    [...parsed.problems, ...(parsed.dropped ?? [])].map((p) => [p.subject, p.message]),
  );
  const input = new Map(parsed.records.map((i) => [i.where, i]));
  const channels = new Map<string, string[]>();
  for (const p of catalog.packages)
    for (const e of p.entries) {
      const list = channels.get(e.bundleName) ?? [];
      if (!list.includes(e.channel)) list.push(e.channel);
      channels.set(e.bundleName, list);
    }
  const problemOf = (name: string) =>
    catalog.problems.find((p) => p.subject === name || p.message.includes(name))?.message;
  return sources.map((source) => {
    const i = input.get(source);
    if (!i) return { source, outcome: 'refused', message: parseProblem.get(source) ?? 'not read' };
    const name = i.bundle.name;
    const base = { source, name, package: i.bundle.annotations.packageName };
    if (built.inserted.get(name) !== i)
      return { ...base, outcome: 'refused', message: problemOf(name) ?? 'not inserted' };
    const inChannels = channels.get(name);
    if (inChannels) return { ...base, outcome: 'loaded', channels: inChannels.sort() };
    const why = problemOf(i.bundle.annotations.packageName);
    return { ...base, outcome: 'not in a channel', ...(why ? { message: why } : {}) };
  });
}

export interface LoadedManifestDir {
  /** One per bundle-format folder. */
  bundles: BundleOutcome[];
  catalog: LoadedCatalog;
  formats: ManifestFormats;
  /** Detection findings and upstream-order caveats (not load problems). */
  warnings: string[];
}

/** Appends bundle-format packages after package-manifest ones (entry ids continue). */
function joinPackages(
  first: readonly Package[],
  second: readonly Package[],
  problems: Problem[],
): Package[] {
  let maxId = 0;
  for (const p of first) for (const e of p.entries) maxId = Math.max(maxId, e.id);
  const taken = new Set(first.map((p) => p.name));
  const packages = [...first];
  for (const p of second) {
    if (taken.has(p.name)) {
      problems.push({
        subject: p.name,
        kind: 'package',
        message: 'UNIQUE constraint failed: package.name',
      });
      continue;
    }
    packages.push({
      ...p,
      entries: p.entries.map((e) => ({
        ...e,
        id: e.id + maxId,
        ...(e.replaces === undefined ? {} : { replaces: e.replaces + maxId }),
      })),
    });
  }
  return packages;
}

/** Parses one bundle folder; a folder opm would refuse is BundleFormatError. */
export function parseBundleFolder(
  folder: { dir: string; files: FileTree },
  image = '',
): BundleInput {
  return { where: folder.dir, image, bundle: parseBundleFormat(folder.files, folder.dir || '.') };
}

/** A bundle folder left out for a file over a decoding limit, as a named warning. */
function droppedBundle(dir: string, err: DocumentLimitError): Problem {
  const file = dir ? `${dir}/${err.message}` : err.message;
  return {
    subject: dir,
    kind: 'bundle',
    message: `decoding manifest ${file} (${err.name}; bundle ${dir || '.'} is left out)`,
  };
}

/** One bundle to load: its files (a folder, an image's layers), or why it could not be read. */
export interface BundleItem {
  /** The folder or image reference (the bundle's `dir`, the report's source). */
  where: string;
  /** The bundle image reference; '' for a folder. */
  image: string;
  /** Read when the item's turn comes; throwing `unreadable`'s class makes it a problem. */
  files: () => FileTree | Promise<FileTree>;
}

export interface BundleItemsResult {
  walk: BundleCatalogWalk;
  /** A record of each bundle that parsed, in input order (inserted or not). */
  records: BundleRecord[];
  /** Unreadable items, then unparsable ones, then name conflicts with package manifests. */
  problems: Problem[];
  unreadable: Problem[];
  unparsable: Problem[];
  conflicts: Problem[];
  /** Bundles left out for a file over a decoding limit (named warnings, not problems). */
  dropped: Problem[];
}

/**
 * Walk 1 over bundles one at a time: each is read, parsed and inserted, and what was accepted
 * goes to the sink; a bundle whose CSV name a package-manifest bundle already has (`existing`)
 * is refused as upstream's UNIQUE constraint. Errors of class `unreadable` (an image whose
 * layers cannot be read) and BundleFormatError become problems naming the item; a file over a
 * decoding limit drops the bundle (DocumentLimitError).
 */
export async function addBundleItems(
  walk: BundleCatalogWalk,
  items: AsyncIterable<BundleItem> | Iterable<BundleItem>,
  sink: Pick<CatalogSink, 'addBundle'>,
  options: {
    existing?: ReadonlySet<string>;
    unreadable?: abstract new (...args: never[]) => Error;
  } = {},
): Promise<BundleItemsResult> {
  const unreadable: Problem[] = [];
  const unparsable: Problem[] = [];
  const conflicts: Problem[] = [];
  const dropped: Problem[] = [];
  const records: BundleRecord[] = [];
  for await (const item of items) {
    let input: BundleInput;
    try {
      input = parseBundleFolder({ dir: item.where, files: await item.files() }, item.image);
    } catch (err) {
      const problem: Problem = {
        subject: item.where,
        kind: 'bundle',
        message: (err as Error).message,
      };
      if (err instanceof DocumentLimitError) dropped.push(droppedBundle(item.where, err));
      else if (err instanceof BundleFormatError) unparsable.push(problem);
      else if (options.unreadable && err instanceof options.unreadable) unreadable.push(problem);
      else throw err;
      continue;
    }
    if (options.existing?.has(input.bundle.name)) {
      conflicts.push({
        subject: input.where,
        kind: 'bundle',
        message: `error adding operator bundle ${input.bundle.name} from ${input.where}: UNIQUE constraint failed: operatorbundle.name (a package-manifest bundle has the same name)`,
      });
      records.push(bundleRecord(input));
      continue;
    }
    for (const b of walk.add(input)) await sink.addBundle(b);
    records.push(walk.records.at(-1)!);
  }
  const problems = [...unreadable, ...unparsable, ...conflicts];
  return { walk, records, problems, unreadable, unparsable, conflicts, dropped };
}

/** What a load in parts says besides what went to the sink. */
export interface ManifestDirLoad {
  bundles: number;
  packages: number;
  problems: Problem[];
  /** Package directories left out for a decoding limit. */
  dropped: string[];
  formats: ManifestFormats;
  /** Detection findings and upstream-order caveats (not load problems). */
  warnings: string[];
  /** One per bundle-format folder. */
  outcomes: BundleOutcome[];
}

/**
 * A manifests directory loaded in parts: package-manifest folders one at a time (walk 1),
 * then each bundle folder, then the package walks; every bundle reaches the sink before any
 * package, in the order of loadManifestDir's catalog. File contents are read when their part
 * is loaded (a tree whose `data` are getters is read once, a part at a time).
 */
export async function loadManifestDirInParts(
  files: FileTree,
  sink: CatalogSink,
  options: LoadOptions = {},
): Promise<ManifestDirLoad> {
  const rules: LoaderRules = options.rules ?? 'v1.8.0';
  const detected = detectManifestFormats(files);
  const formats: ManifestFormats = {
    bundleFolders: detected.bundles.length,
    bundlePackages: detected.bundlePackages.length,
    packageManifestFiles: detected.packageManifestFiles.length,
  };
  const manifests = new PartsWalk(rules, options.limits);
  const byPath = new Map(detected.packageManifestFiles.map((f) => [f.path, f]));
  const parts = walkOrderGroups([...byPath.keys()]).map((group) =>
    group.map((path) => byPath.get(path)!),
  );
  for await (const part of decodedParts(parts, options))
    for (const b of manifests.addPart(part)) await sink.addBundle(b);
  const walk = new BundleCatalogWalk(rules);
  const items = detected.bundles.map((b) => ({ where: b.dir, image: '', files: () => b.files }));
  const added = await addBundleItems(walk, items, sink, { existing: manifests.bundleNames });
  const problems: Problem[] = [];
  const manifestPackages = byPath.size > 0 ? manifests.finish() : [];
  problems.push(...manifests.problems);
  const bundlePackages = detected.bundles.length > 0 ? walk.finish() : [];
  problems.push(...added.problems, ...walk.problems);
  const packages = joinPackages(manifestPackages, bundlePackages, problems);
  for (const p of packages) await sink.addPackage(p);
  const outcomes =
    detected.bundles.length > 0
      ? bundleOutcomes(
          detected.bundles.map((b) => b.dir),
          { records: added.records, problems: added.problems, dropped: added.dropped },
          walk,
          { packages, problems },
        )
      : [];
  return {
    bundles: manifests.bundleCount + walk.bundleCount,
    packages: packages.length,
    problems,
    dropped: [...manifests.dropped, ...added.dropped.map((d) => d.message)],
    formats,
    warnings: [...detected.warnings, ...walk.warnings],
    outcomes,
  };
}

/** loadManifestDirInParts collected in memory: the whole catalog. */
export async function loadManifestDir(
  files: FileTree,
  options: LoadOptions = {},
): Promise<LoadedManifestDir> {
  const bundles: Bundle[] = [];
  const packages: Package[] = [];
  const loaded = await loadManifestDirInParts(
    files,
    {
      addBundle: async (b) => {
        bundles.push(b);
      },
      addPackage: async (p) => {
        packages.push(p);
      },
    },
    options,
  );
  return {
    catalog: {
      rules: options.rules ?? 'v1.8.0',
      bundles,
      packages,
      problems: loaded.problems,
      ...(loaded.dropped.length > 0 ? { dropped: loaded.dropped } : {}),
    },
    formats: loaded.formats,
    warnings: loaded.warnings,
    bundles: loaded.outcomes,
  };
}
