// `--manifest-dir` with bundle-format folders: detection (which format, where), the catalog
// built from bundle annotations like `opm registry add`, mixed trees, skipped folders named,
// and the package-manifest layout untouched.
import { describe, expect, it } from 'vitest';
import { loadBundleCatalog } from '../../../lib/catalog/bundle-catalog.js';
import { parseBundleFormat } from '../../../lib/catalog/bundle-format.js';
import { detectManifestFormats } from '../../../lib/catalog/detect-format.js';
import { loadManifestDir } from '../../../lib/catalog/load-manifest-dir.js';
import { crd, csv, fileTree, pkg } from './manifest-builders.js';

function annotations(p: string, channels: string, def?: string) {
  return {
    annotations: {
      'operators.operatorframework.io.bundle.package.v1': p,
      'operators.operatorframework.io.bundle.channels.v1': channels,
      ...(def ? { 'operators.operatorframework.io.bundle.channel.default.v1': def } : {}),
    },
  };
}

/** A bundle folder `<dir>/` of package `p` (v1beta1 CRD, so every loader rule accepts it). */
function bundle(
  dir: string,
  name: string,
  version: string,
  channels: string,
  def?: string,
  replaces?: string,
) {
  return {
    [`${dir}/manifests/csv.yaml`]: csv(name, {
      version,
      ...(replaces ? { replaces } : {}),
      owned: [{ name: 'widgets.demo.io', version: 'v1', kind: 'Widget' }],
    }),
    [`${dir}/manifests/crd.yaml`]: crd('widgets', 'demo.io', 'Widget', ['v1']),
    [`${dir}/metadata/annotations.yaml`]: annotations('demo', channels, def),
  };
}

const TREE = {
  ...bundle('demo/0.1.0', 'demo.v0.1.0', '0.1.0', 'stable', 'stable'),
  ...bundle('demo/0.2.0', 'demo.v0.2.0', '0.2.0', 'stable,fast', 'stable', 'demo.v0.1.0'),
  'demo/ci.yaml': 'updateGraph: replaces-mode\n',
  'demo/catalog-templates/basic.yaml': 'schema: olm.template.basic\n',
  'demo/0.0.9/manifests/csv.yaml': csv('demo.v0.0.9'),
};

describe('detectManifestFormats', () => {
  it('finds bundle folders and names every folder it skips', () => {
    const d = detectManifestFormats(fileTree(TREE));
    expect(d.bundles.map((b) => b.dir)).toEqual(['demo/0.1.0', 'demo/0.2.0']);
    expect(d.bundles[0]!.files.map((f) => f.path).sort()).toEqual([
      'manifests/crd.yaml',
      'manifests/csv.yaml',
      'metadata/annotations.yaml',
    ]);
    expect(d.bundlePackages).toEqual(['demo']);
    expect(d.packageManifestFiles).toEqual([]);
    expect(d.warnings).toEqual([
      'skipping folder demo/0.0.9: not a bundle folder (no metadata/annotations.yaml directly in it) in the bundle-format package demo (1 file not read)',
      'skipping folder demo/catalog-templates: not a bundle folder (no metadata/annotations.yaml directly in it) in the bundle-format package demo (1 file not read)',
    ]);
  });

  it('a package manifest beside bundle folders is a mixed-format warning', () => {
    const d = detectManifestFormats(
      fileTree({ ...TREE, 'demo/demo.package.yaml': pkg('demo', { stable: 'demo.v0.2.0' }) }),
    );
    expect(d.warnings).toContain(
      'folder demo mixes formats: package manifest demo/demo.package.yaml beside bundle-format folders; read as bundles, the package manifest is ignored',
    );
  });

  it('the directory itself can be one bundle', () => {
    const d = detectManifestFormats(
      fileTree(bundle('x', 'demo.v1', '1.0.0', 'a')).map((f) => ({ ...f, path: f.path.slice(2) })),
    );
    expect(d.bundles.map((b) => b.dir)).toEqual(['']);
  });

  it('package-manifest trees go to the old loader unchanged', () => {
    const files = fileTree({
      'etcd/etcd.package.yaml': pkg('etcd', { alpha: 'etcd.v1' }),
      'etcd/csv.yaml': csv('etcd.v1'),
    });
    const d = detectManifestFormats(files);
    expect(d.bundles).toEqual([]);
    expect(d.packageManifestFiles).toEqual(files);
  });
});

describe('loadManifestDir', () => {
  it('builds packages, channels and the replaces graph from bundle annotations', async () => {
    const { catalog, formats, warnings } = await loadManifestDir(fileTree(TREE));
    expect(formats).toEqual({ bundleFolders: 2, bundlePackages: 1, packageManifestFiles: 0 });
    expect(warnings).toHaveLength(2);
    expect(catalog.problems).toEqual([]);
    expect(catalog.bundles.map((b) => b.name)).toEqual(['demo.v0.1.0', 'demo.v0.2.0']);
    const p = catalog.packages[0]!;
    expect(p.name).toBe('demo');
    expect(p.defaultChannel).toBe('stable');
    expect(p.channels.map(({ name, head }) => ({ name, head }))).toEqual([
      { name: 'fast', head: 'demo.v0.2.0' },
      { name: 'stable', head: 'demo.v0.2.0' },
    ]);
    expect(p.entries.map((e) => [e.channel, e.bundleName, e.depth])).toEqual([
      ['fast', 'demo.v0.2.0', 0],
      ['fast', 'demo.v0.1.0', 1],
      ['stable', 'demo.v0.2.0', 0],
      ['stable', 'demo.v0.1.0', 1],
    ]);
  });

  it('joins a package-manifest package and bundle-format packages (entry ids continue)', async () => {
    const files = fileTree({
      ...TREE,
      'etcd/etcd.package.yaml': pkg('etcd', { alpha: 'etcd.v1' }),
      'etcd/1/csv.yaml': csv('etcd.v1'),
    });
    const { catalog, formats } = await loadManifestDir(files);
    expect(formats.packageManifestFiles).toBe(2);
    expect(catalog.packages.map((p) => p.name)).toEqual(['etcd', 'demo']);
    expect(catalog.packages.flatMap((p) => p.entries.map((e) => e.id))).toEqual([1, 2, 3, 4, 5]);
  });

  it('a folder opm refuses is a problem naming it, and the rest still loads', async () => {
    const files = fileTree({
      ...TREE,
      'demo/0.3.0/manifests/csv.yaml': csv('demo.v0.3.0', { version: '0.3.0' }),
      'demo/0.3.0/metadata/other.yaml': 'nothing: here\n',
      'demo/0.3.0/metadata/annotations.yaml': 'annotations: {}\n',
    });
    const { catalog } = await loadManifestDir(files);
    expect(catalog.problems).toEqual([
      {
        subject: 'demo/0.3.0',
        kind: 'bundle',
        message: 'reading bundle demo/0.3.0: Could not find annotations file',
      },
    ]);
    expect(catalog.packages).toHaveLength(1);
  });
});

describe('loadBundleCatalog', () => {
  it('keeps the first of two bundles with the same CSV name and says why', () => {
    const a = parseBundleFormat(
      fileTree(bundle('.', 'demo.v1', '1.0.0', 'a', 'a')).map((f) => ({
        ...f,
        path: f.path.slice(2),
      })),
      'a',
    );
    const b = parseBundleFormat(
      fileTree(bundle('.', 'demo.v1', '2.0.0', 'a', 'a')).map((f) => ({
        ...f,
        path: f.path.slice(2),
      })),
      'b',
    );
    const built = loadBundleCatalog([
      { where: 'reg/demo:1', image: 'reg/demo:1', bundle: a },
      { where: 'reg/demo:2', image: 'reg/demo:2', bundle: b },
    ]);
    expect(built.catalog.bundles.map((x) => [x.name, x.image, x.version])).toEqual([
      ['demo.v1', 'reg/demo:1', '1.0.0'],
    ]);
    expect(built.catalog.bundles[0]!.relatedImages[0]).toBe('reg/demo:1');
    expect(built.catalog.problems.map((p) => p.message)).toEqual([
      'error adding operator bundle demo.v1: UNIQUE constraint failed: operatorbundle.name',
    ]);
    expect(built.warnings[0]).toMatch(
      /^bundle demo.v1 from reg\/demo:2: reg\/demo:1 has the same CSV name and was inserted first/,
    );
  });
});
