// Which manifest format a directory holds, folder by folder, so `--manifest-dir` never builds a
// silently empty catalog from today's operators: a bundle-format bundle is a folder with
// `metadata/annotations.yaml` (beside `manifests/`); its parent is a bundle-format package
// folder. Everything outside such package folders is left to the package-manifest loader
// (the App Registry era layout, with package.yaml). Inside a bundle-format package folder, a
// sub-folder that is not a bundle (a version without annotations, catalog-templates/, tests/)
// is skipped with a warning naming it, and a package manifest beside bundle folders is named
// too (the bundles win, as `opm` reads only bundles there).
import { compareBytes, type FileTree, type TreeFile } from './file-tree.js';
import { decodeFirstDocument, isObject } from './yaml-document.js';

export interface BundleFolder {
  /** The bundle folder, relative to the directory ('' when the directory is one bundle). */
  dir: string;
  /** Its files, with paths relative to the bundle folder (manifests/…, metadata/…). */
  files: FileTree;
}

export interface DetectedFormats {
  bundles: BundleFolder[];
  /** Files read by the package-manifest loader (everything outside bundle-format packages). */
  packageManifestFiles: FileTree;
  /** Bundle-format package folders, in byte order. */
  bundlePackages: string[];
  /** One per skipped or mixed folder, naming it. */
  warnings: string[];
}

const ANNOTATIONS = /^(?:(.*)\/)?metadata\/annotations\.ya?ml$/;
const MANIFEST_FILE = /\.(?:ya?ml|json)$/i;

function parentOf(dir: string): string {
  const slash = dir.lastIndexOf('/');
  return slash === -1 ? '' : dir.slice(0, slash);
}

function isPackageManifest(file: TreeFile): boolean {
  const doc = decodeFirstDocument(file.data);
  return (
    doc.ok &&
    isObject(doc.value) &&
    typeof doc.value.packageName === 'string' &&
    doc.value.packageName !== ''
  );
}

export function detectManifestFormats(files: FileTree): DetectedFormats {
  // Bundle folders sit at one depth: the directory itself (one bundle), <version>/ (one
  // package) or <package>/<version>/ (a catalog). Deeper annotations (a bundle/ or
  // certification/ copy inside a version folder) are not bundles, as upstream's pipeline has it.
  const candidates = new Set<string>();
  for (const f of files) {
    const m = ANNOTATIONS.exec(f.path);
    if (m) candidates.add(m[1] ?? '');
  }
  const depth = (d: string) => (d === '' ? 0 : d.split('/').length);
  const shallowest = Math.min(...[...candidates].map(depth));
  const bundleDirs = [...candidates].filter((d) => depth(d) === shallowest);
  if (bundleDirs.includes('')) {
    // The directory itself is one bundle.
    return {
      bundles: [{ dir: '', files }],
      packageManifestFiles: [],
      bundlePackages: [''],
      warnings: [],
    };
  }
  bundleDirs.sort(compareBytes);
  const packageDirs = [...new Set(bundleDirs.map(parentOf))].sort(compareBytes);
  // One pass over the files: the bundle folder or package folder of each comes from its
  // leading path segments (bundle folders all sit at depth `shallowest`).
  const bundleSet = new Set(bundleDirs);
  const packageSet = new Set(packageDirs);
  const bundleFiles = new Map<string, TreeFile[]>(bundleDirs.map((d) => [d, []]));
  const warnings: string[] = [];
  const packageManifestFiles: TreeFile[] = [];
  const skipped = new Map<string, number>();
  const mixed = new Map<string, string>();
  for (const f of files) {
    const parts = f.path.split('/');
    const dir = parts.slice(0, shallowest).join('/');
    if (parts.length > shallowest && bundleSet.has(dir)) {
      // A view of the file, not its bytes: a tree whose data is read on access (a local
      // directory) is read when the bundle's turn comes, not all at once here.
      const path = parts.slice(shallowest).join('/');
      bundleFiles.get(dir)!.push({
        path,
        get data() {
          return f.data;
        },
      });
      continue;
    }
    const pkgDepth = shallowest - 1;
    const pkg = parts.slice(0, pkgDepth).join('/');
    if (parts.length <= pkgDepth || !packageSet.has(pkg)) {
      packageManifestFiles.push(f);
      continue;
    }
    const rest = parts.slice(pkgDepth);
    if (rest.length === 1) {
      const name = rest[0]!;
      if (MANIFEST_FILE.test(name) && !mixed.has(pkg) && isPackageManifest(f))
        mixed.set(pkg, f.path);
      continue;
    }
    const folder = pkg === '' ? rest[0]! : `${pkg}/${rest[0]}`;
    skipped.set(folder, (skipped.get(folder) ?? 0) + 1);
  }
  const bundles: BundleFolder[] = bundleDirs.map((dir) => ({ dir, files: bundleFiles.get(dir)! }));
  for (const [folder, count] of [...skipped].sort((a, b) => compareBytes(a[0], b[0])))
    warnings.push(
      `skipping folder ${folder}: not a bundle folder (no metadata/annotations.yaml directly in it) in the bundle-format package ${parentOf(folder) || '.'} (${count} file${count === 1 ? '' : 's'} not read)`,
    );
  for (const [pkg, file] of [...mixed].sort((a, b) => compareBytes(a[0], b[0])))
    warnings.push(
      `folder ${pkg || '.'} mixes formats: package manifest ${file} beside bundle-format folders; read as bundles, the package manifest is ignored`,
    );
  return { bundles, packageManifestFiles, bundlePackages: packageDirs, warnings };
}
