// A manifests directory in either format, or both: package-manifest packages go through
// loadCatalog as before, bundle-format folders are parsed and built into a catalog the way
// `opm registry add` would (bundle-catalog.ts), and the two are joined into one LoadedCatalog
// for the writers. What was found is described (`formats`) so the CLI can say it, and each
// skipped folder or refused bundle is a named problem or warning, never silence.
import { type BundleCatalog, type BundleInput, loadBundleCatalog } from './bundle-catalog.js';
import { BundleFormatError, parseBundleFormat } from './bundle-format.js';
import { detectManifestFormats } from './detect-format.js';
import type { FileTree } from './file-tree.js';
import { loadCatalog } from './load-catalog.js';
import type { LoadedCatalog, LoadOptions, Problem } from './model.js';
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

/** Each source's outcome, in source order, from its parse, its insert and the channel graph. */
export function bundleOutcomes(
  sources: readonly string[],
  parsed: {
    inputs: readonly BundleInput[];
    problems: readonly Problem[];
    dropped?: readonly Problem[];
  },
  built: BundleCatalog,
  catalog: LoadedCatalog,
): BundleOutcome[] {
  const parseProblem = new Map(
    [...parsed.problems, ...(parsed.dropped ?? [])].map((p) => [p.subject, p.message]),
  );
  const input = new Map(parsed.inputs.map((i) => [i.where, i]));
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

/** Joins a bundle-format catalog after a package-manifest one (entry ids continue). */
export function joinCatalogs(first: LoadedCatalog, second: LoadedCatalog): LoadedCatalog {
  let maxId = 0;
  for (const p of first.packages) for (const e of p.entries) maxId = Math.max(maxId, e.id);
  const problems: Problem[] = [...first.problems, ...second.problems];
  const taken = new Set(first.packages.map((p) => p.name));
  const packages = [...first.packages];
  for (const p of second.packages) {
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
  const dropped = [...(first.dropped ?? []), ...(second.dropped ?? [])];
  return {
    rules: first.rules,
    bundles: [...first.bundles, ...second.bundles],
    packages,
    problems,
    ...(dropped.length > 0 ? { dropped } : {}),
  };
}

/**
 * Parses bundle folders; a folder opm would refuse becomes a problem naming it. A folder with
 * a file over a decoding limit is `dropped` instead (a named DocumentLimitError warning, as
 * for package directories: upstream had no limits, so it is not one of its problems).
 */
export function parseBundleFolders(
  folders: readonly { dir: string; files: FileTree }[],
  image: (dir: string) => string = () => '',
): { inputs: BundleInput[]; problems: Problem[]; dropped: Problem[] } {
  const inputs: BundleInput[] = [];
  const problems: Problem[] = [];
  const dropped: Problem[] = [];
  for (const f of folders) {
    const where = f.dir || '.';
    try {
      inputs.push({ where: f.dir, image: image(f.dir), bundle: parseBundleFormat(f.files, where) });
    } catch (err) {
      if (err instanceof DocumentLimitError) {
        const file = f.dir ? `${f.dir}/${err.message}` : err.message;
        dropped.push({
          subject: f.dir,
          kind: 'bundle',
          message: `decoding manifest ${file} (${err.name}; bundle ${where} is left out)`,
        });
        continue;
      }
      if (!(err instanceof BundleFormatError)) throw err;
      problems.push({ subject: f.dir, kind: 'bundle', message: err.message });
    }
  }
  return { inputs, problems, dropped };
}

export function loadManifestDir(files: FileTree, options: LoadOptions = {}): LoadedManifestDir {
  const rules = options.rules ?? 'v1.8.0';
  const detected = detectManifestFormats(files);
  const formats: ManifestFormats = {
    bundleFolders: detected.bundles.length,
    bundlePackages: detected.bundlePackages.length,
    packageManifestFiles: detected.packageManifestFiles.length,
  };
  const warnings = [...detected.warnings];
  const manifests: LoadedCatalog =
    detected.packageManifestFiles.length > 0
      ? loadCatalog(detected.packageManifestFiles, { rules })
      : { rules, bundles: [], packages: [], problems: [] };
  if (detected.bundles.length === 0) return { catalog: manifests, formats, warnings, bundles: [] };
  const parsed = parseBundleFolders(detected.bundles);
  const existing = new Set(manifests.bundles.map((b) => b.name));
  const inputs = parsed.inputs.filter((i) => {
    if (!existing.has(i.bundle.name)) return true;
    parsed.problems.push({
      subject: i.where,
      kind: 'bundle',
      message: `error adding operator bundle ${i.bundle.name} from ${i.where}: UNIQUE constraint failed: operatorbundle.name (a package-manifest bundle has the same name)`,
    });
    return false;
  });
  const built = loadBundleCatalog(inputs, rules);
  warnings.push(...built.warnings);
  const bundles: LoadedCatalog = {
    ...built.catalog,
    problems: [...parsed.problems, ...built.catalog.problems],
    ...(parsed.dropped.length > 0 ? { dropped: parsed.dropped.map((d) => d.message) } : {}),
  };
  const catalog = joinCatalogs(manifests, bundles);
  const outcomes = bundleOutcomes(
    detected.bundles.map((b) => b.dir),
    parsed,
    built,
    catalog,
  );
  return { catalog, formats, warnings, bundles: outcomes };
}
