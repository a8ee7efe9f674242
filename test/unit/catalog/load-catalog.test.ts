// The directory loader's rules (upstream-spec §5.3, index-reference §2/§5) on small trees
// built in code: what a bundle holds, walk order, the replaces/skips graph with its entry ids
// and depths, default channels, and every kind of bad input giving its precise problem while
// the rest of the catalog still loads.
import { describe, expect, it } from 'vitest';
import { loadCatalog, problemsWarning } from '../../../lib/catalog/load-catalog.js';
import type { LoadedCatalog } from '../../../lib/catalog/model.js';
import { crd, csv, fileTree, pkg } from './manifest-builders.js';

const kinds = (c: LoadedCatalog, bundle: string) =>
  bundleNamed(c, bundle).objects.map(
    (o) => `${o.kind}/${(o.metadata as { name?: string } | undefined)?.name ?? ''}`,
  );

function bundleNamed(c: LoadedCatalog, name: string) {
  const b = c.bundles.find((x) => x.name === name);
  if (!b) throw new Error(`no bundle ${name} in [${c.bundles.map((x) => x.name).join(', ')}]`);
  return b;
}

function packageNamed(c: LoadedCatalog, name: string) {
  const p = c.packages.find((x) => x.name === name);
  if (!p) throw new Error(`no package ${name} in [${c.packages.map((x) => x.name).join(', ')}]`);
  return p;
}

/** Entries as compact tuples: [id, channel, bundle, depth, replaces id]. */
const entryRows = (c: LoadedCatalog, name: string) =>
  packageNamed(c, name).entries.map((e) => [
    e.id,
    e.channel,
    e.bundleName,
    e.depth,
    e.replaces ?? null,
  ]);

/** A package `p` whose bundles are given as name → options, one folder each, one channel. */
function linearPackage(
  bundles: Record<string, Parameters<typeof csv>[1]>,
  channels: Record<string, string>,
  defaultChannel?: string,
) {
  const files: Record<string, ReturnType<typeof csv> | string> = {};
  for (const [name, options] of Object.entries(bundles))
    files[`p/${name}/${name}.clusterserviceversion.yaml`] = csv(name, options);
  files['p/p.package.yaml'] = pkg('p', channels, defaultChannel);
  return fileTree(files);
}

const WIDGET = { name: 'widgets.example.com', version: 'v1', kind: 'Widget' };

describe('bundle contents', () => {
  const tree = fileTree({
    'etcd/0.9.2/a.crd.yaml': crd('widgets', 'example.com', 'Widget', ['v1']),
    'etcd/0.9.2/B-role.yaml': {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'role' },
    },
    'etcd/0.9.2/c.clusterserviceversion.yaml': csv('etcd.v0.9.2', {
      version: '0.9.2',
      owned: [WIDGET],
    }),
    'etcd/0.9.2/d-old.clusterserviceversion.yaml': csv('etcd.v0.9.0', { version: '0.9.0' }),
    'etcd/0.9.2/e-nokind.yaml': { apiVersion: 'v1', metadata: { name: 'nokind' } },
    'etcd/0.9.2/f-service.yaml': { apiVersion: 'v1', kind: 'Service', metadata: { name: 'svc' } },
    'etcd/0.9.2/g-broken.yaml': 'kind: [unclosed\n',
    'etcd/0.9.2/h-list.yaml': '- kind: ConfigMap\n',
    'etcd/0.9.2/.hidden.yaml': { kind: 'ConfigMap', metadata: { name: 'hidden' } },
    'etcd/0.9.2/sub/i.yaml': { kind: 'ConfigMap', metadata: { name: 'below' } },
    'etcd/0.9.2/sub/j.clusterserviceversion.yaml': csv('etcd.sub'),
    'etcd/.cache/k.clusterserviceversion.yaml': csv('hidden.dir'),
    '.git/l.clusterserviceversion.yaml': csv('hidden.root'),
    'etcd/.m.clusterserviceversion.yaml': csv('hidden.file'),
  });
  const c = loadCatalog(tree);

  it('makes a bundle of every visible file of the CSV folder, in byte order of names', () => {
    // 'B-role' sorts before 'a.crd' (bytes, not locale); other CSVs, kind-less, broken and
    // list documents, hidden files and sub-folders are left out; ClusterRole/Service stay in.
    expect(kinds(c, 'etcd.v0.9.2')).toEqual([
      'ClusterRole/role',
      'CustomResourceDefinition/widgets.example.com',
      'ClusterServiceVersion/etcd.v0.9.2',
      'Service/svc',
    ]);
    expect(kinds(c, 'etcd.v0.9.0')).toEqual([
      'ClusterRole/role',
      'CustomResourceDefinition/widgets.example.com',
      'ClusterServiceVersion/etcd.v0.9.0',
      'Service/svc',
    ]);
    expect(bundleNamed(c, 'etcd.v0.9.2').dir).toBe('etcd/0.9.2');
    expect(bundleNamed(c, 'etcd.v0.9.2').csv).toBe(bundleNamed(c, 'etcd.v0.9.2').objects[2]);
  });

  it('loads CSVs of sub-folders as their own bundles and skips hidden files and directories', () => {
    expect(c.bundles.map((b) => b.name)).toEqual(['etcd.v0.9.2', 'etcd.v0.9.0', 'etcd.sub']);
    expect(kinds(c, 'etcd.sub')).toEqual(['ConfigMap/below', 'ClusterServiceVersion/etcd.sub']);
  });

  it('reports nothing for these files (undecodable files are not bundle objects)', () => {
    expect(c.problems.filter((p) => p.kind === 'bundle')).toEqual([]);
  });

  it('gives every CSV of a flat folder every CRD of that folder', () => {
    const flat = loadCatalog(
      fileTree({
        'halkyon/a.crd.yaml': crd('as', 'halkyon.io', 'A', ['v1']),
        'halkyon/b.crd.yaml': crd('bs', 'halkyon.io', 'B', ['v1']),
        'halkyon/halkyon.package.yaml': pkg('halkyon', { alpha: 'halkyon.v2' }),
        'halkyon/halkyon.v1.clusterserviceversion.yaml': csv('halkyon.v1', {
          owned: [{ name: 'as.halkyon.io', version: 'v1', kind: 'A' }],
        }),
        'halkyon/halkyon.v2.clusterserviceversion.yaml': csv('halkyon.v2', {
          replaces: 'halkyon.v1',
          owned: [{ name: 'bs.halkyon.io', version: 'v1', kind: 'B' }],
        }),
      }),
    );
    const apis = [
      { group: 'halkyon.io', version: 'v1', kind: 'A', plural: 'as' },
      { group: 'halkyon.io', version: 'v1', kind: 'B', plural: 'bs' },
    ];
    expect(bundleNamed(flat, 'halkyon.v1').provided).toEqual(apis);
    expect(bundleNamed(flat, 'halkyon.v2').provided).toEqual(apis);
    // The package manifest has no kind, so it is no bundle object.
    expect(kinds(flat, 'halkyon.v2')).toEqual([
      'CustomResourceDefinition/as.halkyon.io',
      'CustomResourceDefinition/bs.halkyon.io',
      'ClusterServiceVersion/halkyon.v2',
    ]);
    expect(flat.problems).toEqual([]);
    expect(entryRows(flat, 'halkyon')).toEqual([
      [1, 'alpha', 'halkyon.v2', 0, 2],
      [2, 'alpha', 'halkyon.v1', 1, null],
    ]);
  });
});

describe('walk order', () => {
  it('visits a directory "a" before the file "a.txt" and "a-b" between them', () => {
    // Whole-path byte order would be a-b/…, a.txt, a/… ; filepath.Walk gives a/…, a-b/…, a.txt.
    const c = loadCatalog(
      fileTree({
        'a.txt': csv('top.v1'),
        'a/x.yaml': csv('nested.v1'),
        'a-b/y.yaml': csv('dash.v1'),
        'a/p.yaml': pkg('first', { alpha: 'nested.v1' }),
        'a.yaml': pkg('third', { alpha: 'top.v1' }),
        'a-b/p.yaml': pkg('second', { alpha: 'dash.v1' }),
      }),
    );
    expect(c.bundles.map((b) => b.name)).toEqual(['nested.v1', 'dash.v1', 'top.v1']);
    expect(c.packages.map((p) => [p.name, p.path, p.entries[0]?.id])).toEqual([
      ['first', 'a/p.yaml', 1],
      ['second', 'a-b/p.yaml', 2],
      ['third', 'a.yaml', 3],
    ]);
  });
});

describe('channel graph', () => {
  it('follows the replaces chain from the head with depths, ids and replaces pointers', () => {
    const c = loadCatalog(
      linearPackage(
        {
          'p.v1': { version: '1.0.0' },
          'p.v2': { version: '2.0.0', replaces: 'p.v1' },
          'p.v3': { version: '3.0.0', replaces: 'p.v2', skipRange: '<3.0.0' },
        },
        { stable: 'p.v3' },
      ),
    );
    expect(c.problems).toEqual([]);
    expect(entryRows(c, 'p')).toEqual([
      [1, 'stable', 'p.v3', 0, 2],
      [2, 'stable', 'p.v2', 1, 3],
      [3, 'stable', 'p.v1', 2, null],
    ]);
    expect(packageNamed(c, 'p')).toMatchObject({
      defaultChannel: 'stable',
      channels: [{ name: 'stable', head: 'p.v3' }],
      path: 'p/p.package.yaml',
    });
    expect(bundleNamed(c, 'p.v3')).toMatchObject({
      version: '3.0.0',
      replaces: 'p.v2',
      skips: [],
      skipRange: '<3.0.0',
    });
    expect(bundleNamed(c, 'p.v1')).toMatchObject({
      version: '1.0.0',
      replaces: '',
      skips: [],
      skipRange: '',
    });
  });

  it('gives the five entries of the worked example (v3 replaces v2 skips [v1b]; v2 replaces v1)', () => {
    const c = loadCatalog(
      linearPackage(
        { v1: {}, v2: { replaces: 'v1' }, v3: { replaces: 'v2', skips: ['v1b'] } },
        { stable: 'v3' },
      ),
    );
    expect(c.problems).toEqual([]);
    expect(entryRows(c, 'p')).toEqual([
      [1, 'stable', 'v3', 0, 4],
      [2, 'stable', 'v1b', 1, null],
      [3, 'stable', 'v3', 1, 2],
      [4, 'stable', 'v2', 2, 5],
      [5, 'stable', 'v1', 3, null],
    ]);
  });

  it('adds a pair of entries per skip, one depth each, and splits skips on commas as the skips column did', () => {
    const c = loadCatalog(linearPackage({ v3: { skips: ['a', 'b,c'] } }, { stable: 'v3' }));
    expect(bundleNamed(c, 'v3').skips).toEqual(['a', 'b,c']);
    expect(entryRows(c, 'p')).toEqual([
      [1, 'stable', 'v3', 0, null],
      [2, 'stable', 'a', 1, null],
      [3, 'stable', 'v3', 1, 2],
      [4, 'stable', 'b', 2, null],
      [5, 'stable', 'v3', 2, 4],
      [6, 'stable', 'c', 3, null],
      [7, 'stable', 'v3', 3, 6],
    ]);
  });

  it('walks several channels in manifest order and numbers entries across packages', () => {
    const tree = fileTree({
      'p/v1/csv.yaml': csv('p.v1'),
      'p/v2/csv.yaml': csv('p.v2', { replaces: 'p.v1' }),
      'p/v3/csv.yaml': csv('p.v3', { replaces: 'p.v2' }),
      'p/package.yaml': pkg('p', { stable: 'p.v2', alpha: 'p.v3' }, 'stable'),
      'q/v1/csv.yaml': csv('q.v1'),
      'q/package.yaml': pkg('q', { beta: 'q.v1' }),
    });
    const c = loadCatalog(tree);
    expect(c.problems).toEqual([]);
    expect(packageNamed(c, 'p').channels.map(({ name, head }) => ({ name, head }))).toEqual([
      { name: 'stable', head: 'p.v2' },
      { name: 'alpha', head: 'p.v3' },
    ]);
    expect(packageNamed(c, 'p').defaultChannel).toBe('stable');
    expect(entryRows(c, 'p')).toEqual([
      [1, 'stable', 'p.v2', 0, 2],
      [2, 'stable', 'p.v1', 1, null],
      [3, 'alpha', 'p.v3', 0, 4],
      [4, 'alpha', 'p.v2', 1, 5],
      [5, 'alpha', 'p.v1', 2, null],
    ]);
    expect(entryRows(c, 'q')).toEqual([[6, 'beta', 'q.v1', 0, null]]);
    expect(packageNamed(c, 'q').entries[0]?.packageName).toBe('q');
  });
});

describe('default channel', () => {
  const bundles = { 'p.v1': {}, 'p.v2': {} };

  it('is the channel named by defaultChannel', () => {
    const c = loadCatalog(linearPackage(bundles, { alpha: 'p.v1', beta: 'p.v2' }, 'beta'));
    expect(c.problems).toEqual([]);
    expect(packageNamed(c, 'p').defaultChannel).toBe('beta');
  });

  it('is the only channel, even when defaultChannel names another', () => {
    const c = loadCatalog(linearPackage(bundles, { only: 'p.v1' }, 'other'));
    expect(c.problems).toEqual([]);
    expect(packageNamed(c, 'p').defaultChannel).toBe('only');
  });

  it.each([
    ['names no channel', 'gamma'],
    ['is absent', undefined],
  ])('fails the package when defaultChannel %s and there are several channels', (_, def) => {
    const c = loadCatalog(linearPackage(bundles, { alpha: 'p.v1', beta: 'p.v2' }, def));
    expect(c.problems).toEqual([
      { subject: 'p', kind: 'package', message: 'no default channel specified for p' },
    ]);
    expect(c.packages).toEqual([]);
    // The package is rolled back; the bundles of walk 1 stay.
    expect(c.bundles.map((b) => b.name)).toEqual(['p.v1', 'p.v2']);
  });

  it('cannot be a channel whose head bundle is missing (its insert fails on the foreign key)', () => {
    const c = loadCatalog(linearPackage(bundles, { stable: 'p.missing', beta: 'p.v1' }, 'stable'));
    expect(c.problems).toEqual([
      {
        subject: 'p',
        kind: 'package',
        message: '[FOREIGN KEY constraint failed, no default channel specified for p]',
      },
    ]);
    expect(c.packages).toEqual([]);
  });
});

describe('broken graphs roll the package back', () => {
  it('names the channel HEAD when a replaced CSV is missing further down the chain', () => {
    const c = loadCatalog(
      linearPackage(
        { 'p.v2': { replaces: 'p.v1' }, 'p.v3': { replaces: 'p.v2' } },
        { stable: 'p.v3' },
      ),
    );
    expect(c.problems).toEqual([
      {
        subject: 'p',
        kind: 'package',
        message: "p.v3 specifies replacement that couldn't be found",
      },
    ]);
    expect(c.packages).toEqual([]);
    expect(c.bundles.map((b) => b.name)).toEqual(['p.v2', 'p.v3']);
  });

  it('aggregates the errors of several channels in brackets', () => {
    const c = loadCatalog(
      linearPackage(
        { 'p.v2': { replaces: 'p.v1' }, 'p.v3': { replaces: 'p.v0' } },
        { stable: 'p.v3', beta: 'p.v2' },
        'stable',
      ),
    );
    expect(c.problems.map((p) => p.message)).toEqual([
      "[p.v3 specifies replacement that couldn't be found, p.v2 specifies replacement that couldn't be found]",
    ]);
  });

  it('uses no entry ids for a rolled-back package (the next package starts where it started)', () => {
    const c = loadCatalog(
      fileTree({
        'a/v2/csv.yaml': csv('a.v2', { replaces: 'a.v1' }),
        'a/package.yaml': pkg('a', { stable: 'a.v2' }),
        'b/v1/csv.yaml': csv('b.v1'),
        'b/package.yaml': pkg('b', { stable: 'b.v1' }),
      }),
    );
    expect(c.packages.map((p) => p.name)).toEqual(['b']);
    expect(entryRows(c, 'b')).toEqual([[1, 'stable', 'b.v1', 0, null]]);
  });

  it('detects a replaces cycle', () => {
    const c = loadCatalog(
      linearPackage(
        { 'p.v1': { replaces: 'p.v2' }, 'p.v2': { replaces: 'p.v1' } },
        { stable: 'p.v2' },
      ),
    );
    expect(c.problems).toEqual([
      { subject: 'p', kind: 'package', message: 'Cycle detected, p.v1 replaces p.v2' },
    ]);
    expect(c.packages).toEqual([]);
  });

  it('keeps the first of two packages with the same name and reports the second', () => {
    const c = loadCatalog(
      fileTree({
        'p/v1/csv.yaml': csv('p.v1'),
        'p/a.package.yaml': pkg('p', { stable: 'p.v1' }),
        'p/b.package.yaml': pkg('p', { beta: 'p.v1' }),
      }),
    );
    expect(c.packages.map((p) => [p.name, p.defaultChannel, p.path])).toEqual([
      ['p', 'stable', 'p/a.package.yaml'],
    ]);
    expect(c.problems).toEqual([
      { subject: 'p', kind: 'package', message: 'UNIQUE constraint failed: package.name' },
    ]);
  });
});

describe('bad bundles', () => {
  it('rejects a bundle with an apiextensions.k8s.io/v1 CRD, then its package, as v1.8.0 did', () => {
    const c = loadCatalog(
      fileTree({
        'b/0.0.6/crd.yaml': crd('widgets', 'example.com', 'Widget', ['v1']),
        'b/0.0.6/csv.yaml': csv('b.v0.0.6', { version: '0.0.6', owned: [WIDGET] }),
        'b/0.1.0/crd.yaml': crd(
          'widgets',
          'example.com',
          'Widget',
          ['v1'],
          'apiextensions.k8s.io/v1',
        ),
        'b/0.1.0/csv.yaml': csv('b.v0.1.0', {
          version: '0.1.0',
          replaces: 'b.v0.0.6',
          owned: [WIDGET],
        }),
        'b/b.package.yaml': pkg('b', { alpha: 'b.v0.1.0' }),
      }),
    );
    const decodeError =
      'error decoding CRD: no kind "CustomResourceDefinition" is registered for version "apiextensions.k8s.io/v1"';
    expect(c.problems).toEqual([
      {
        subject: 'b.v0.1.0',
        kind: 'bundle',
        message: `error checking provided apis in bundle b.v0.1.0: ${decodeError}`,
      },
      {
        subject: 'b.v0.1.0',
        kind: 'bundle',
        message: `error adding operator bundle b.v0.1.0: ${decodeError}`,
      },
      {
        subject: 'b',
        kind: 'package',
        message: '[FOREIGN KEY constraint failed, no default channel specified for b]',
      },
    ]);
    expect(c.bundles.map((b) => b.name)).toEqual(['b.v0.0.6']);
    expect(c.packages).toEqual([]);
    expect(problemsWarning(c)).toBe(
      `error building database: [${c.problems.map((p) => p.message).join(', ')}]`,
    );
  });

  it('reports a missing owned CRD but still inserts the bundle', () => {
    const c = loadCatalog(
      fileTree({
        'w/1/crd.yaml': crd('gadgets', 'example.com', 'Gadget', ['v1']),
        'w/1/csv.yaml': csv('w.v1', { owned: [WIDGET] }),
      }),
    );
    expect(c.bundles.map((b) => b.name)).toEqual(['w.v1']);
    expect(c.problems).toHaveLength(1);
    expect(c.problems[0]).toMatchObject({ subject: 'w.v1', kind: 'bundle' });
    expect(c.problems[0]?.message).toMatch(
      /^error checking provided apis in bundle w\.v1: couldn't find \{example\.com v1 Widget widgets\} in bundle\. found: map\[\{example\.com v1 Gadget gadgets\}/,
    );
    expect(problemsWarning(c)).toBe(`error building database: ${c.problems[0]?.message}`);
  });

  it('does not insert a CSV without metadata.name', () => {
    const nameless = csv('x');
    nameless.metadata = {};
    const c = loadCatalog(fileTree({ 'n/1/csv.yaml': nameless, 'n/2/csv.yaml': csv('n.v2') }));
    expect(c.bundles.map((b) => b.name)).toEqual(['n.v2']);
    expect(c.problems).toEqual([
      {
        subject: 'n/1/csv.yaml',
        kind: 'bundle',
        message: 'error adding operator bundle n/1/csv.yaml: csv name not found',
      },
    ]);
  });

  it('rejects a bundle whose required CRD name has no dot', () => {
    const c = loadCatalog(
      fileTree({
        'r/1/csv.yaml': csv('r.v1', { required: [{ name: 'nodot', version: 'v1', kind: 'X' }] }),
      }),
    );
    expect(c.bundles).toEqual([]);
    expect(c.problems).toEqual([
      {
        subject: 'r.v1',
        kind: 'bundle',
        message:
          "error adding operator bundle r.v1: couldn't parse plural.group from crd name: nodot",
      },
    ]);
  });

  it('rejects a second CSV with a name already inserted', () => {
    const c = loadCatalog(
      fileTree({
        'd/1/csv.yaml': csv('d.v1', { version: '1' }),
        'd/2/csv.yaml': csv('d.v1', { version: '2' }),
      }),
    );
    expect(c.bundles.map((b) => [b.name, b.dir])).toEqual([['d.v1', 'd/1']]);
    expect(c.problems.map((p) => p.message)).toEqual([
      'error adding operator bundle d.v1: UNIQUE constraint failed: operatorbundle.name',
    ]);
  });
});

describe('bad package files', () => {
  it('reports a file whose first document is a list as not decodable into a package', () => {
    const c = loadCatalog(fileTree({ 'p/list.yaml': '- packageName: p\n' }));
    expect(c.problems).toEqual([
      {
        subject: 'p/list.yaml',
        kind: 'file',
        message:
          'could not decode contents of file p/list.yaml into package: json: cannot unmarshal array into Go value of type registry.PackageManifest',
      },
    ]);
  });

  it('ignores files whose first document has no packageName', () => {
    const c = loadCatalog(
      fileTree({
        'p/a.yaml': 'foo: bar\n',
        'p/b.yaml': 'packageName: ""\n',
        'p/c.yaml': 'kind: Service\n',
      }),
    );
    expect(c).toEqual({ rules: 'v1.8.0', bundles: [], packages: [], problems: [] });
  });

  it('reports a scalar first document as not decodable into a package', () => {
    const c = loadCatalog(fileTree({ 'p/n.yaml': '42\n' }));
    expect(c.problems.map((p) => p.message)).toEqual([
      'could not decode contents of file p/n.yaml into package: json: cannot unmarshal number into Go value of type registry.PackageManifest',
    ]);
  });
});

describe('related images and APIs', () => {
  it('collects related images, deployment containers and init containers, distinct, "" for a missing image', () => {
    const c = loadCatalog(
      fileTree({
        'i/1/csv.yaml': csv('i.v1', {
          relatedImages: [
            { name: 'a', image: 'img/a:1' },
            { name: 'dup', image: 'img/c:1' },
            { name: 'none' },
          ],
          deployments: [
            { containers: ['img/c:1', undefined], initContainers: ['img/init:1'] },
            { containers: ['img/d:1'] },
          ],
        }),
      }),
    );
    expect([...bundleNamed(c, 'i.v1').relatedImages].sort()).toEqual([
      '',
      'img/a:1',
      'img/c:1',
      'img/d:1',
      'img/init:1',
    ]);
  });

  it('ignores container images of an install strategy other than "deployment"', () => {
    const other = csv('o.v1', {
      deployments: [{ containers: ['img/c:1'] }],
      relatedImages: [{ image: 'img/r:1' }],
    });
    (other.spec as { install: { strategy: string } }).install.strategy = 'custom';
    const c = loadCatalog(fileTree({ 'o/1/csv.yaml': other }));
    expect(bundleNamed(c, 'o.v1').relatedImages).toEqual(['img/r:1']);
  });

  it('provides one API per CRD version (versions[] and version, distinct) plus owned API services', () => {
    const crdWithVersion = crd('widgets', 'example.com', 'Widget', ['v1', 'v2']);
    (crdWithVersion.spec as Record<string, unknown>).version = 'v1';
    const c = loadCatalog(
      fileTree({
        'a/1/crd.yaml': crdWithVersion,
        'a/1/csv.yaml': csv('a.v1', {
          owned: [WIDGET],
          ownedApiServices: [
            { name: 'things', group: 'api.example.com', version: 'v1alpha1', kind: 'Thing' },
          ],
          required: [{ name: 'others.other.io', version: 'v1', kind: 'Other' }],
          requiredApiServices: [
            { name: 'pods', group: 'metrics.k8s.io', version: 'v1beta1', kind: 'PodMetrics' },
          ],
        }),
      }),
    );
    expect(c.problems).toEqual([]);
    const b = bundleNamed(c, 'a.v1');
    expect(b.provided).toEqual([
      { group: 'example.com', version: 'v1', kind: 'Widget', plural: 'widgets' },
      { group: 'example.com', version: 'v2', kind: 'Widget', plural: 'widgets' },
      { group: 'api.example.com', version: 'v1alpha1', kind: 'Thing', plural: 'things' },
    ]);
    expect(b.required).toEqual([
      { group: 'other.io', version: 'v1', kind: 'Other', plural: 'others' },
      { group: 'metrics.k8s.io', version: 'v1beta1', kind: 'PodMetrics', plural: 'pods' },
    ]);
  });
});

describe('problemsWarning', () => {
  it('is undefined without problems', () => {
    expect(problemsWarning(loadCatalog(fileTree({ 'x/csv.yaml': csv('x.v1') })))).toBeUndefined();
  });
});
