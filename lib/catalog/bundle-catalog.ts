// A catalog from bundle-format bundles (folders or images), as `opm registry add` builds one in
// replaces mode: every bundle is inserted (a second bundle of the same CSV name fails, the
// first in input order stays), each package's manifest is derived from its bundles'
// annotations (bundle-packages.ts), and that manifest goes through the same package walk as a
// package.yaml. The bundles and manifests are handed to the one loader (load-bundles.ts,
// load-packages.ts) as an in-memory manifest tree of already-decoded documents, so the rules
// (and the writers fed by the resulting LoadedCatalog) are never forked.
// BundleCatalogWalk does it one bundle at a time, in bounded memory: each bundle is inserted
// and handed on whole (to an index writer), and only what the package walk and the report need
// of it is kept (names, version, channels, replaces/skips); loadBundleCatalog is the same walk
// over bundles held in memory.
import type { FormatBundle } from './bundle-format.js';
import { derivePackageManifest } from './bundle-packages.js';
import { loadBundles } from './load-bundles.js';
import { bundleSummary, detached } from './load-in-parts.js';
import { loadPackages } from './load-packages.js';
import type { ManifestFile, ManifestTree } from './manifest-tree.js';
import type { Bundle, LoadedCatalog, LoaderRules, Package, Problem } from './model.js';

export interface BundleInput {
  /** The folder or image reference it came from (messages, and the bundle's `dir`). */
  where: string;
  /** The bundle image reference; '' for a folder. */
  image: string;
  bundle: FormatBundle;
}

/** What the walk keeps of an input: enough for the package manifests and the report. */
export interface BundleRecord {
  where: string;
  image: string;
  bundle: {
    name: string;
    version: string;
    annotations: { packageName: string; channels: readonly string[]; defaultChannel: string };
  };
}

export interface BundleCatalog {
  catalog: LoadedCatalog;
  /** Upstream-order caveats and other non-fatal findings, each naming its subject. */
  warnings: string[];
  /** The inputs whose bundle was inserted, by CSV name (the first of a duplicated name). */
  inserted: Map<string, BundleRecord>;
  /** A record of every input, in input order (the same objects `inserted` holds). */
  records: BundleRecord[];
}

function decodedFile(dir: string, name: string, value: unknown): ManifestFile {
  return {
    path: `${dir}/${name}`,
    dir,
    name,
    document: { ok: true, value },
  };
}

function treeOf(files: ManifestFile[]): ManifestTree {
  const byDir = new Map<string, ManifestFile[]>();
  for (const f of files) {
    const list = byDir.get(f.dir);
    if (list) list.push(f);
    else byDir.set(f.dir, [f]);
  }
  return { files, filesIn: (dir) => byDir.get(dir) ?? [], dropped: [] };
}

/** Object file names that keep the bundle's file order under byte-order sorting. */
function objectName(i: number): string {
  return `${String(i).padStart(6, '0')}.json`;
}

/**
 * What a bundle-format bundle adds to the rows of its insert (v1.26.5's AddOperatorBundle):
 * metadata/properties.yaml entries as property rows and metadata/dependencies.yaml entries as
 * dependency rows, each value the JSON text upstream stores. olm.package is left to the
 * package walk (its rows carry the same value), so a bundle never gets two.
 */
function addBundleFiles(b: Bundle, f: FormatBundle): void {
  const have = new Set(b.properties.map((p) => `${p.type}\u0000${p.value}`));
  for (const p of f.fileProperties) {
    const key = `${p.type}\u0000${p.raw}`;
    if (p.type === 'olm.package' || have.has(key)) continue;
    have.add(key);
    b.properties.push({ type: p.type, value: p.raw });
  }
  for (const d of f.dependencies) b.dependencies.push({ type: d.type, value: d.raw });
}

/** `opm registry add` over bundles given one at a time: add each, then finish once. */

/** What the report keeps of an input bundle, detached from the text it was decoded from. */
export function bundleRecord(input: BundleInput): BundleRecord {
  const { name, version, annotations } = input.bundle;
  return detached({
    where: input.where,
    image: input.image,
    bundle: { name, version, annotations },
  });
}
export class BundleCatalogWalk {
  private readonly names = new Set<string>();
  private readonly dirs = new Set<string>();
  private readonly kept: Bundle[] = [];
  private readonly seen = new Map<string, string>();
  /** The inserted inputs, by CSV name (the first of a duplicated name). */
  readonly inserted = new Map<string, BundleRecord>();
  /** A record of every input, in input order. */
  readonly records: BundleRecord[] = [];
  /** Walk 1's problems, then (after finish) the package derivation's and walk 2's. */
  readonly problems: Problem[] = [];
  /** Duplicate-name caveats, then (after finish) the derivation's. */
  readonly warnings: string[] = [];

  constructor(readonly rules: LoaderRules = 'v1.8.0') {}

  get bundleCount(): number {
    return this.kept.length;
  }

  /**
   * Inserts one parsed bundle (walk 1 over its folder): the bundles accepted, whole, for the
   * writer; the walk keeps only their summaries and a record of the input.
   */
  add(input: BundleInput): Bundle[] {
    let dir = input.where;
    for (let n = 2; this.dirs.has(dir); n++) dir = `${input.where}#${n}`;
    this.dirs.add(dir);
    const files = input.bundle.objects.map((obj, i) => decodedFile(dir, objectName(i), obj));
    const walk1 = loadBundles(treeOf(files), this.rules, this.names);
    this.problems.push(...detached(walk1.problems));
    const { name } = input.bundle;
    const record = bundleRecord(input);
    this.records.push(record);
    for (const b of walk1.bundles) {
      this.inserted.set(b.name, record);
      if (input.image !== '') {
        b.image = input.image;
        if (!b.relatedImages.includes(input.image)) b.relatedImages.unshift(input.image);
      }
      if (this.rules === 'v1.26.5') addBundleFiles(b, input.bundle);
      const summary = bundleSummary(b);
      this.kept.push(summary);
      this.names.delete(b.name);
      this.names.add(summary.name);
    }
    const earlier = this.seen.get(name);
    if (earlier !== undefined)
      this.warnings.push(
        `bundle ${name} from ${input.where}: ${earlier} has the same CSV name and was inserted first; opm registry add keeps whichever comes first in Go map order, here the first in input order`,
      );
    else this.seen.set(record.bundle.name, record.where);
    return walk1.bundles;
  }

  /** Walk 2 over the package manifests derived from the inserted bundles, by package name. */
  finish(): Package[] {
    const byPackage = new Map<string, BundleRecord[]>();
    for (const [name, input] of this.inserted) {
      const pkg = input.bundle.annotations.packageName;
      if (pkg === '') {
        this.problems.push({
          subject: name,
          kind: 'bundle',
          message: `bundle ${name} from ${input.where} names no package (operators.operatorframework.io.bundle.package.v1)`,
        });
        continue;
      }
      const list = byPackage.get(pkg);
      if (list) list.push(input);
      else byPackage.set(pkg, [input]);
    }
    const manifests: ManifestFile[] = [];
    for (const pkg of [...byPackage.keys()].sort()) {
      const derived = derivePackageManifest(
        byPackage.get(pkg)!.map((i) => ({
          name: i.bundle.name,
          packageName: pkg,
          version: i.bundle.version,
          channels: i.bundle.annotations.channels,
          defaultChannel: i.bundle.annotations.defaultChannel,
        })),
      );
      this.warnings.push(...derived.warnings);
      if (!derived.ok) {
        this.problems.push({ subject: pkg, kind: 'package', message: derived.error });
        continue;
      }
      const m = derived.manifest;
      manifests.push(
        decodedFile(pkg, 'package.yaml', {
          packageName: m.packageName,
          defaultChannel: m.defaultChannel,
          channels: m.channels.map((c) => ({ name: c.name, currentCSV: c.head })),
        }),
      );
    }
    const walk2 = loadPackages(treeOf(manifests), this.kept, this.rules);
    this.problems.push(...walk2.problems);
    return walk2.packages;
  }
}

export function loadBundleCatalog(
  inputs: readonly BundleInput[],
  rules: LoaderRules = 'v1.8.0',
): BundleCatalog {
  const walk = new BundleCatalogWalk(rules);
  const bundles: Bundle[] = [];
  for (const input of inputs) bundles.push(...walk.add(input));
  const packages = walk.finish();
  return {
    catalog: { rules, bundles, packages, problems: walk.problems },
    warnings: walk.warnings,
    inserted: walk.inserted,
    records: walk.records,
  };
}
