// A catalog from bundle-format bundles (folders or images), as `opm registry add` builds one in
// replaces mode: every bundle is inserted (a second bundle of the same CSV name fails, the
// first in input order stays), each package's manifest is derived from its bundles'
// annotations (bundle-packages.ts), and that manifest goes through the same package walk as a
// package.yaml. The bundles and manifests are handed to the one loader (load-bundles.ts,
// load-packages.ts) as an in-memory manifest tree of already-decoded documents, so the rules
// (and the writers fed by the resulting LoadedCatalog) are never forked.
import type { FormatBundle } from './bundle-format.js';
import { derivePackageManifest } from './bundle-packages.js';
import { loadBundles } from './load-bundles.js';
import { loadPackages } from './load-packages.js';
import type { ManifestFile, ManifestTree } from './manifest-tree.js';
import type { Bundle, LoadedCatalog, LoaderRules, Problem } from './model.js';

export interface BundleInput {
  /** The folder or image reference it came from (messages, and the bundle's `dir`). */
  where: string;
  /** The bundle image reference; '' for a folder. */
  image: string;
  bundle: FormatBundle;
}

export interface BundleCatalog {
  catalog: LoadedCatalog;
  /** Upstream-order caveats and other non-fatal findings, each naming its subject. */
  warnings: string[];
  /** The inputs whose bundle was inserted, by CSV name (the first of a duplicated name). */
  inserted: Map<string, BundleInput>;
}

const EMPTY = new Uint8Array(0);

function decodedFile(dir: string, name: string, value: unknown): ManifestFile {
  return {
    path: `${dir}/${name}`,
    dir,
    name,
    data: EMPTY,
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

export function loadBundleCatalog(
  inputs: readonly BundleInput[],
  rules: LoaderRules = 'v1.8.0',
): BundleCatalog {
  const warnings: string[] = [];
  const problems: Problem[] = [];
  // Walk 1 over one folder per bundle, in input order.
  const files: ManifestFile[] = [];
  const dirs = new Map<string, BundleInput>();
  for (const input of inputs) {
    let dir = input.where;
    for (let n = 2; dirs.has(dir); n++) dir = `${input.where}#${n}`;
    dirs.set(dir, input);
    input.bundle.objects.forEach((obj, i) => {
      files.push(decodedFile(dir, objectName(i), obj));
    });
  }
  const walk1 = loadBundles(treeOf(files), rules);
  problems.push(...walk1.problems);
  const inserted = new Map<string, BundleInput>();
  for (const b of walk1.bundles) {
    const input = dirs.get(b.dir)!;
    inserted.set(b.name, input);
    if (input.image !== '') {
      b.image = input.image;
      if (!b.relatedImages.includes(input.image)) b.relatedImages.unshift(input.image);
    }
    if (rules === 'v1.26.5') addBundleFiles(b, input.bundle);
  }
  const seen = new Map<string, string>();
  for (const input of inputs) {
    const earlier = seen.get(input.bundle.name);
    if (earlier !== undefined)
      warnings.push(
        `bundle ${input.bundle.name} from ${input.where}: ${earlier} has the same CSV name and was inserted first; opm registry add keeps whichever comes first in Go map order, here the first in input order`,
      );
    else seen.set(input.bundle.name, input.where);
  }

  // Walk 2 over the derived package manifests, in package-name order.
  const byPackage = new Map<string, BundleInput[]>();
  for (const [name, input] of inserted) {
    const pkg = input.bundle.annotations.packageName;
    if (pkg === '') {
      problems.push({
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
    warnings.push(...derived.warnings);
    if (!derived.ok) {
      problems.push({ subject: pkg, kind: 'package', message: derived.error });
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
  const walk2 = loadPackages(treeOf(manifests), walk1.bundles, rules);
  problems.push(...walk2.problems);
  return {
    catalog: { rules, bundles: walk1.bundles, packages: walk2.packages, problems },
    warnings,
    inserted,
  };
}
