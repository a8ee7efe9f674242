// Loading part by part must be loading: on every corpus the bundles (objects included, as
// the sink receives them), packages and problems equal loadCatalog's on the whole tree, in
// the same order; and the load keeps no bundle's objects once the sink has them.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type FileTree, walkOrderGroups } from '../../../lib/catalog/file-tree.js';
import { loadCatalog } from '../../../lib/catalog/load-catalog.js';
import { loadCatalogInParts } from '../../../lib/catalog/load-in-parts.js';
import type { Bundle, Package } from '../../../lib/catalog/model.js';
import { readManifestDir, readManifestDirParts } from '../../../lib/store/manifest-dir.js';
import { CORPUS, CORPUS_SKIP_REASON, HAVE_CORPUS, REPO_ROOT } from '../../support/shared-corpus.js';

const te = new TextEncoder();
const file = (p: string, text: string) => ({ path: p, data: te.encode(text) });

async function* inParts(parts: FileTree[]) {
  yield* parts;
}

async function collect(parts: AsyncIterable<FileTree>) {
  const bundles: Bundle[] = [];
  const packages: Package[] = [];
  const result = await loadCatalogInParts(parts, {
    addBundle: async (b) => {
      bundles.push(b);
    },
    addPackage: async (p) => {
      packages.push(p);
    },
  });
  expect(result.bundles).toBe(bundles.length);
  expect(result.packages).toBe(packages.length);
  return { bundles, packages, problems: result.problems };
}

async function expectSameLoad(dir: string) {
  const whole = loadCatalog(await readManifestDir(dir));
  const parts = await collect(readManifestDirParts(dir));
  expect(parts.bundles).toEqual(whole.bundles);
  expect(parts.packages).toEqual(whole.packages);
  expect(parts.problems).toEqual(whole.problems);
  return whole;
}

describe('loadCatalogInParts', () => {
  it('loads the sample manifests as loadCatalog does', async () => {
    const whole = await expectSameLoad(path.join(REPO_ROOT, 'examples', 'manifests'));
    expect(whole.packages.length).toBeGreaterThan(0);
  });

  it('reads each file of a tree read on access once (a local directory reads on each access)', async () => {
    const tree = await readManifestDir(path.join(REPO_ROOT, 'examples', 'manifests'));
    const reads = new Map<string, number>();
    const counted: FileTree = tree.map((f) => ({
      path: f.path,
      get data() {
        reads.set(f.path, (reads.get(f.path) ?? 0) + 1);
        return f.data;
      },
    }));
    const loaded = await collect(inParts([counted]));
    expect(loaded.bundles.length).toBeGreaterThan(0);
    expect(reads.size).toBe(tree.length);
    expect([...reads.values()].every((n) => n === 1)).toBe(true);
  });

  it.skipIf(!HAVE_CORPUS)(
    `loads the dev corpus as loadCatalog does${HAVE_CORPUS ? '' : ` (${CORPUS_SKIP_REASON})`}`,
    async () => {
      const whole = await expectSameLoad(path.join(CORPUS, 'packages'));
      expect(whole.bundles.length).toBeGreaterThan(100);
      expect(whole.problems.length).toBeGreaterThan(0);
    },
  );

  it.skipIf(!HAVE_CORPUS)(
    'loads the operator-registry v1.8.0 manifests as loadCatalog does',
    async () => {
      await expectSameLoad(path.join(CORPUS, 'operator-registry-v1.8.0', 'manifests'));
    },
  );

  it('groups a folder of package folders by package, never splitting a folder of files', () => {
    expect(
      walkOrderGroups([
        'c1/b/1.0/csv.yaml',
        'c1/b/b.package.yaml',
        'c1/a/a.package.yaml',
        'c1/a/1.0/csv.yaml',
        'c0/z/z.yaml',
        'README',
        'A/x.yaml',
        'm/1/f.yaml',
        'm/f.yaml',
        'm/g/h.yaml',
        'm/z/q.yaml',
      ]),
    ).toEqual([
      ['A/x.yaml'],
      ['README'],
      ['c0/z/z.yaml'],
      // '1.0' sorts before 'a.package.yaml': the version folder is walked first, on its own.
      ['c1/a/1.0/csv.yaml'],
      ['c1/a/a.package.yaml'],
      ['c1/b/1.0/csv.yaml'],
      ['c1/b/b.package.yaml'],
      ['m/1/f.yaml'],
      ['m/f.yaml'],
      ['m/g/h.yaml'],
      ['m/z/q.yaml'],
    ]);
    // Files of one folder with a sub-folder between them stay in one group, sub-folder included.
    expect(walkOrderGroups(['d/a.yaml', 'd/b/x.yaml', 'd/c.yaml', 'd/e/y.yaml'])).toEqual([
      ['d/a.yaml', 'd/b/x.yaml', 'd/c.yaml'],
      ['d/e/y.yaml'],
    ]);
  });

  it('loads copies of the samples in container folders, in groups, as one tree', async () => {
    const samples = await readManifestDir(path.join(REPO_ROOT, 'examples', 'manifests'));
    const tree = [
      ...samples.map((f) => ({ path: `copy1/${f.path}`, data: f.data })),
      ...samples.map((f) => ({ path: `copy0/${f.path}`, data: f.data })),
      file('copy0/stray.yaml', 'packageName: [not, a, string]\n'),
    ];
    const byPath = new Map(tree.map((f) => [f.path, f]));
    const groups = walkOrderGroups(tree.map((f) => f.path));
    expect(groups.length).toBeGreaterThan(2);
    const whole = loadCatalog(tree);
    const parts = await collect(inParts(groups.map((g) => g.map((p) => byPath.get(p)!))));
    expect(parts.bundles).toEqual(whole.bundles);
    expect(parts.packages).toEqual(whole.packages);
    expect(parts.problems).toEqual(whole.problems);
    expect(parts.problems.length).toBeGreaterThan(0);
  });

  it('rejects a bundle name already loaded from an earlier part, as one tree would', async () => {
    const csv = (name: string) =>
      `apiVersion: operators.coreos.com/v1alpha1\nkind: ClusterServiceVersion\nmetadata:\n  name: ${name}\nspec:\n  version: 1.0.0\n`;
    const pkg = (name: string, head: string) =>
      `packageName: ${name}\nchannels:\n- name: stable\n  currentCSV: ${head}\n`;
    const a = [file('a/1.0/csv.yaml', csv('dup.v1')), file('a/a.package.yaml', pkg('a', 'dup.v1'))];
    const b = [file('b/1.0/csv.yaml', csv('dup.v1')), file('b/b.package.yaml', pkg('b', 'dup.v1'))];
    const whole = loadCatalog([...a, ...b]);
    const parts = await collect(inParts([a, b]));
    expect(parts.bundles).toEqual(whole.bundles);
    expect(parts.packages).toEqual(whole.packages);
    expect(parts.problems).toEqual(whole.problems);
    expect(parts.problems.map((p) => p.message)).toContain(
      'error adding operator bundle dup.v1: UNIQUE constraint failed: operatorbundle.name',
    );
    expect(parts.packages.map((p) => p.name)).toEqual(['a', 'b']);
  });
});
