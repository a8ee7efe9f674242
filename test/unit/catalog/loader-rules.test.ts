// The operator-registry v1.26.5 directory-loader rules, each on a small tree built in code and,
// where the two differ, next to what the default v1.8.0 rules do with the same tree
// (reference/modern-olm.md §2–3): CRD apiextensions v1, ignored CRD apiVersions, decode
// errors, olm.substitutesFor, the olm.properties annotation, olm.gvk properties and
// dependencies, olm.package rows per chain-node visit (duplicates, rollback, skip targets),
// a package manifest that replaces an earlier one, the new error texts, and each channel's
// members as `opm migrate` reads them back.
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../../lib/catalog/load-catalog.js';
import type { LoadedCatalog } from '../../../lib/catalog/model.js';
import { annotationProperties, compactJson } from '../../../lib/catalog/properties.js';
import { crd, csv, fileTree, pkg } from './manifest-builders.js';

const modern = (files: Parameters<typeof fileTree>[0]) =>
  loadCatalog(fileTree(files), { rules: 'v1.26.5' });
const legacy = (files: Parameters<typeof fileTree>[0]) => loadCatalog(fileTree(files));

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

const gvk = (group: string, kind: string, version: string) => ({
  type: 'olm.gvk',
  value: `{"group":"${group}","kind":"${kind}","version":"${version}"}`,
});

/** A CSV with annotations. */
function annotated(name: string, annotations: Record<string, string>, version = '1.0.0') {
  const c = csv(name, { version });
  (c.metadata as Record<string, unknown>).annotations = annotations;
  return c;
}

describe('CRD apiextensions.k8s.io/v1', () => {
  const v1 = crd('builds', 'build.dev', 'Build', ['v1alpha1'], 'apiextensions.k8s.io/v1');
  const twoVersions = crd(
    'gizmos',
    'example.com',
    'Gizmo',
    ['v1', 'v2'],
    'apiextensions.k8s.io/v1',
  );
  // served:false and storage:false do not matter.
  (twoVersions.spec as { versions: Array<Record<string, unknown>> }).versions[0]!.served = false;
  const files = {
    'b/1/build.crd.yaml': v1,
    'b/1/gizmo.crd.yaml': twoVersions,
    'b/1/csv.yaml': csv('b.v1', {
      version: '1.0.0',
      owned: [{ name: 'builds.build.dev', version: 'v1alpha1', kind: 'Build' }],
    }),
    'b/b.package.yaml': pkg('b', { alpha: 'b.v1' }),
  };

  it('is accepted under v1.26.5 with a key per spec.versions[].name, served or not', () => {
    const c = modern(files);
    expect(c.problems).toEqual([]);
    expect(bundleNamed(c, 'b.v1').provided).toEqual([
      { group: 'build.dev', version: 'v1alpha1', kind: 'Build', plural: 'builds' },
      { group: 'example.com', version: 'v1', kind: 'Gizmo', plural: 'gizmos' },
      { group: 'example.com', version: 'v2', kind: 'Gizmo', plural: 'gizmos' },
    ]);
    expect(bundleNamed(c, 'b.v1').properties).toEqual([
      gvk('build.dev', 'Build', 'v1alpha1'),
      gvk('example.com', 'Gizmo', 'v1'),
      gvk('example.com', 'Gizmo', 'v2'),
    ]);
    expect(packageNamed(c, 'b').defaultChannel).toBe('alpha');
  });

  it('fails the bundle (and so its package) under v1.8.0', () => {
    const c = legacy(files);
    expect(c.bundles).toEqual([]);
    expect(c.packages).toEqual([]);
    expect(c.problems.map((p) => p.message)).toContain(
      'error adding operator bundle b.v1: error decoding CRD: no kind "CustomResourceDefinition" is registered for version "apiextensions.k8s.io/v1"',
    );
  });

  it('ignores CRDs of any other apiVersion under v1.26.5 (they provide nothing)', () => {
    const c = modern({
      'o/1/a.crd.yaml': crd('as', 'example.com', 'A', ['v1'], 'apiextensions.k8s.io/v2'),
      'o/1/b.crd.yaml': { ...crd('bs', 'example.com', 'B', ['v1']), apiVersion: undefined },
      'o/1/csv.yaml': csv('o.v1', { version: '1.0.0' }),
    });
    expect(c.problems).toEqual([]);
    expect(bundleNamed(c, 'o.v1').provided).toEqual([]);
    expect(bundleNamed(c, 'o.v1').properties).toEqual([]);
    // Both stay bundle objects: only their APIs are ignored.
    expect(bundleNamed(c, 'o.v1').objects).toHaveLength(3);
  });

  it('keeps v1beta1 as before: versions[] plus spec.version', () => {
    const old = crd('ws', 'example.com', 'W', ['v1']);
    (old.spec as Record<string, unknown>).version = 'v0';
    const c = modern({ 'w/1/crd.yaml': old, 'w/1/csv.yaml': csv('w.v1') });
    expect(bundleNamed(c, 'w.v1').provided.map((k) => k.version)).toEqual(['v1', 'v0']);
  });

  it('fails the bundle when the chosen decoder rejects the CRD, with v1.26.5 texts', () => {
    const wrongGroup = crd('xs', 'example.com', 'X', ['v1'], 'example.com/v1');
    const badVersions = crd('ys', 'example.com', 'Y', [], 'apiextensions.k8s.io/v1');
    (badVersions.spec as Record<string, unknown>).versions = 'v1';
    const c = modern({
      'x/1/crd.yaml': wrongGroup,
      'x/1/csv.yaml': csv('x.v1', { version: '1.0.0' }),
      'y/1/crd.yaml': badVersions,
      'y/1/csv.yaml': csv('y.v1', { version: '1.0.0' }),
    });
    expect(c.bundles).toEqual([]);
    const decodeX =
      'error decoding v1 CRD: no kind "CustomResourceDefinition" is registered for version "example.com/v1"';
    const decodeY =
      'error decoding v1 CRD: json: cannot unmarshal string into Go struct field CustomResourceDefinitionSpec.versions of type []';
    expect(c.problems.map((p) => p.message)).toEqual([
      `error checking provided apis in bundle x.v1: ${decodeX}`,
      // The bundle cache fails inside Version(), so upstream names no version here.
      `error adding operator bundle x.v1//: unable to obtain bundle version : ${decodeX}`,
      `error checking provided apis in bundle y.v1: ${decodeY}`,
      `error adding operator bundle y.v1//: unable to obtain bundle version : ${decodeY}`,
    ]);
  });
});

describe('bundle insert (walk 1) under v1.26.5', () => {
  it('rejects a CSV with olm.substitutesFor (alpha features are off) and keeps the others', () => {
    const c = modern({
      's/1/csv.yaml': annotated('s.v1', { 'olm.substitutesFor': 's.v0' }),
      's/2/csv.yaml': annotated('s.v2', { 'olm.substitutesFor': '' }),
    });
    expect(c.bundles.map((b) => b.name)).toEqual(['s.v2']);
    expect(c.problems).toEqual([
      {
        subject: 's.v1',
        kind: 'bundle',
        message:
          'error adding operator bundle s.v1/1.0.0/: SubstitutesFor is an alpha-only feature. You must enable alpha features with the flag --enable-alpha in order to use this feature.',
      },
    ]);
    // v1.8.0 did not know the annotation.
    expect(
      legacy({ 's/1/csv.yaml': annotated('s.v1', { 'olm.substitutesFor': 's.v0' }) }).problems,
    ).toEqual([]);
  });

  it('names a duplicate CSV name and a bad required CRD as v1.26.5 does', () => {
    const c = modern({
      'd/1/csv.yaml': csv('d.v1', { version: '1' }),
      'd/2/csv.yaml': csv('d.v1', { version: '2' }),
      'r/1/csv.yaml': csv('r.v1', { required: [{ name: 'nodot', version: 'v1', kind: 'X' }] }),
    });
    expect(c.problems.map((p) => p.message)).toEqual([
      'error adding operator bundle d.v1/2/: failed to add bundle "d.v1": UNIQUE constraint failed: operatorbundle.name',
      "error adding operator bundle r.v1//: failed to add dependencies : couldn't parse plural.group from crd name: nodot",
    ]);
  });

  it('names a CSV without metadata.name by its version, as v1.26.5 does', () => {
    const nameless = csv('x', { version: '0.1.0' });
    nameless.metadata = {};
    expect(modern({ 'n/1/csv.yaml': nameless }).problems).toEqual([
      {
        subject: 'n/1/csv.yaml',
        kind: 'bundle',
        message: 'error adding operator bundle /0.1.0/: csv name not found',
      },
    ]);
  });

  it('gives one olm.gvk property per distinct GVK (the plural is not part of the key)', () => {
    const c = modern({
      'g/1/a.crd.yaml': crd('things', 'example.com', 'Thing', ['v1']),
      'g/1/b.crd.yaml': crd('thingies', 'example.com', 'Thing', ['v1']),
      'g/1/csv.yaml': csv('g.v1', {
        ownedApiServices: [
          { name: 'metrics', group: 'metrics.example.com', version: 'v1', kind: 'M' },
        ],
      }),
    });
    const b = bundleNamed(c, 'g.v1');
    expect(b.provided).toHaveLength(3);
    expect(b.properties).toEqual([
      gvk('example.com', 'Thing', 'v1'),
      gvk('metrics.example.com', 'M', 'v1'),
    ]);
  });

  it('gives one olm.gvk dependency per distinct required API (CRDs and API services)', () => {
    const c = modern({
      'q/1/csv.yaml': csv('q.v1', {
        required: [
          { name: 'widgets.example.com', version: 'v1', kind: 'Widget' },
          { name: 'widgets.example.com', version: 'v1', kind: 'Widget' },
        ],
        requiredApiServices: [{ name: 'ms', group: 'm.example.com', version: 'v2', kind: 'M' }],
      }),
    });
    expect(bundleNamed(c, 'q.v1').dependencies).toEqual([
      gvk('example.com', 'Widget', 'v1'),
      gvk('m.example.com', 'M', 'v2'),
    ]);
  });

  it('adds the olm.properties annotation: compacted, key order kept, <>& escaped, merged', () => {
    const annotation = JSON.stringify([
      { type: 'olm.label', value: { label: 'a<b' } },
      { type: 'custom', value: { z: 1, a: [1, 2], '1': 'x' } },
      { type: 'olm.gvk', value: { group: 'example.com', kind: 'Thing', version: 'v1' } },
      { type: 'olm.label', value: { label: 'a<b' } },
    ]).replace(/,/g, ', ');
    const c = modern({
      'p/1/crd.yaml': crd('things', 'example.com', 'Thing', ['v1']),
      'p/1/csv.yaml': annotated('p.v1', { 'olm.properties': annotation }),
    });
    expect(c.problems).toEqual([]);
    // JSON.stringify moved the key "1" first; a hand-written order is kept as written.
    expect(bundleNamed(c, 'p.v1').properties).toEqual([
      gvk('example.com', 'Thing', 'v1'),
      { type: 'olm.label', value: '{"label":"a\\u003cb"}' },
      { type: 'custom', value: '{"1":"x","z":1,"a":[1,2]}' },
    ]);
    expect(annotationProperties('[{"type":"t","value":{"z" : 1, "1": 2, "a" : "&"}}]')).toEqual([
      { type: 't', value: '{"z":1,"1":2,"a":"\\u0026"}' },
    ]);
  });

  it('fails the bundle on a bad olm.properties annotation, with Go-like causes', () => {
    const cases: Record<string, string> = {
      '[{"type":"olm.label","value":{"label":3}}]':
        'json: cannot unmarshal number into Go struct field LabelProperty.label of type string',
      '[{"type":"olm.package","value":[]}]':
        'json: cannot unmarshal array into Go value of type registry.PackageProperty',
      '[{"type":"olm.gvk"}]': 'unexpected end of JSON input',
      '{"type":"x"}': 'json: cannot unmarshal object into Go value of type []registry.Property',
      '[{"type":1}]':
        'json: cannot unmarshal number into Go struct field Property.type of type string',
      '[{"type":"x",}]': "invalid character '}' looking for beginning of object key string",
      '': 'unexpected end of JSON input',
    };
    for (const [annotation, cause] of Object.entries(cases)) {
      const c = modern({ 'p/1/csv.yaml': annotated('p.v1', { 'olm.properties': annotation }) });
      expect(c.bundles, annotation).toEqual([]);
      expect(
        c.problems.map((p) => p.message),
        annotation,
      ).toEqual([`error adding operator bundle p.v1/1.0.0/: failed to add properties : ${cause}`]);
    }
  });

  it('stores a missing or null value as null and unknown types unchecked', () => {
    expect(annotationProperties('[{"TYPE":"x"},null,{"type":"y","value":null}]')).toEqual([
      { type: 'x', value: 'null' },
      { type: '', value: 'null' },
      { type: 'y', value: 'null' },
    ]);
    expect(compactJson('{ "a" : "x y\\" <" ,\n "b":[ 1 , 2 ] }')).toBe(
      '{"a":"x y\\" \\u003c","b":[1,2]}',
    );
  });

  it('leaves properties and dependencies empty under v1.8.0', () => {
    const c = legacy({
      'q/1/crd.yaml': crd('things', 'example.com', 'Thing', ['v1']),
      'q/1/csv.yaml': csv('q.v1', { required: [WIDGET] }),
      'q/q.package.yaml': pkg('q', { alpha: 'q.v1' }),
    });
    expect(bundleNamed(c, 'q.v1')).toMatchObject({ properties: [], dependencies: [] });
    expect(packageNamed(c, 'q').packageProperties).toEqual([]);
  });
});

const WIDGET = { name: 'widgets.example.com', version: 'v1', kind: 'Widget' };

/** Package p: v3 replaces v2 and skips v1b; v2 replaces v1; channels stable (v3) and fast (v2). */
const graphFiles = {
  'p/v1/csv.yaml': csv('p.v1', { version: '1.0.0' }),
  'p/v1b/csv.yaml': csv('p.v1b', { version: '1.0.1', skipRange: '<1.0.1' }),
  'p/v2/csv.yaml': csv('p.v2', { version: '2.0.0', replaces: 'p.v1' }),
  'p/v3/csv.yaml': csv('p.v3', { version: '3.0.0', replaces: 'p.v2', skips: ['p.v1b', 'gone'] }),
  'p/package.yaml': pkg('p', { stable: 'p.v3', fast: 'p.v2' }, 'stable'),
};

describe('package walk (walk 2) under v1.26.5', () => {
  it('adds an olm.package row per (channel, chain node) visit: duplicates kept, none for skip targets', () => {
    const c = modern(graphFiles);
    expect(c.problems).toEqual([]);
    const rows = packageNamed(c, 'p').packageProperties.map((v) => [
      v.bundleName,
      v.property.value,
    ]);
    expect(rows).toEqual([
      ['p.v3', '{"packageName":"p","version":"3.0.0"}'],
      ['p.v2', '{"packageName":"p","version":"2.0.0"}'],
      ['p.v1', '{"packageName":"p","version":"1.0.0"}'],
      ['p.v2', '{"packageName":"p","version":"2.0.0"}'],
      ['p.v1', '{"packageName":"p","version":"1.0.0"}'],
    ]);
    expect(
      packageNamed(c, 'p').packageProperties.every((v) => v.property.type === 'olm.package'),
    ).toBe(true);
    // The entries are those of v1.8.0.
    expect(packageNamed(c, 'p').entries).toEqual(packageNamed(legacy(graphFiles), 'p').entries);
  });

  it('writes "version":"" for a CSV without spec.version', () => {
    const c = modern({ 'n/1/csv.yaml': csv('n.v1'), 'n/package.yaml': pkg('n', { a: 'n.v1' }) });
    expect(packageNamed(c, 'n').packageProperties).toEqual([
      {
        bundleName: 'n.v1',
        version: '',
        bundlePath: '',
        property: { type: 'olm.package', value: '{"packageName":"n","version":""}' },
      },
    ]);
  });

  it('rolls a failing package back with its olm.package rows, naming the head in the new text', () => {
    const c = modern({
      'f/2/csv.yaml': csv('f.v2', { version: '2.0.0', replaces: 'f.v1' }),
      'f/3/csv.yaml': csv('f.v3', { version: '3.0.0', replaces: 'f.v2' }),
      'f/package.yaml': pkg('f', { stable: 'f.v3' }),
    });
    expect(c.packages).toEqual([]);
    expect(c.problems).toEqual([
      {
        subject: 'f',
        kind: 'package',
        message: 'Invalid bundle f.v3, replaces nonexistent bundle f.v1',
      },
    ]);
  });

  it('names the channel and package of a channel row that fails, and does not walk it', () => {
    const files = {
      'c/1/csv.yaml': csv('c.v1', { version: '1.0.0' }),
      'c/package.yaml': pkg('c', { good: 'c.v1', bad: 'c.missing' }, 'good'),
    };
    expect(modern(files).problems.map((p) => p.message)).toEqual([
      'failed to add channel "bad" in package "c": FOREIGN KEY constraint failed',
    ]);
    // v1.8.0 walked the failed channel too, failing the same way a second time.
    expect(legacy(files).problems.map((p) => p.message)).toEqual(['FOREIGN KEY constraint failed']);
  });

  it('lets a second manifest of a package name replace the first (v1.8.0: UNIQUE error)', () => {
    const files = {
      'a/1/csv.yaml': csv('a.v1', { version: '1.0.0' }),
      'a/2/csv.yaml': csv('a.v2', { version: '2.0.0', replaces: 'a.v1' }),
      'a/x.package.yaml': pkg('a', { old: 'a.v1' }),
      'a/y.package.yaml': pkg('a', { new: 'a.v2' }),
      'b/1/csv.yaml': csv('b.v1', { version: '1.0.0' }),
      'b/package.yaml': pkg('b', { only: 'b.v1' }),
    };
    const c = modern(files);
    expect(c.problems).toEqual([]);
    expect(c.packages.map((p) => [p.name, p.path])).toEqual([
      ['a', 'a/y.package.yaml'],
      ['b', 'b/package.yaml'],
    ]);
    const a = packageNamed(c, 'a');
    expect(a.defaultChannel).toBe('new');
    // Ids restart at the largest id left after the delete, plus one: the old entry 1 is gone.
    expect(a.entries.map((e) => [e.id, e.channel, e.bundleName])).toEqual([
      [1, 'new', 'a.v2'],
      [2, 'new', 'a.v1'],
    ]);
    expect(packageNamed(c, 'b').entries.map((e) => e.id)).toEqual([3]);
    // The first manifest's olm.package row stays behind.
    expect(a.packageProperties.map((v) => v.bundleName)).toEqual(['a.v1', 'a.v2', 'a.v1']);

    const old = legacy(files);
    expect(packageNamed(old, 'a').path).toBe('a/x.package.yaml');
    expect(old.problems.map((p) => p.message)).toEqual(['UNIQUE constraint failed: package.name']);
  });

  it('keeps the earlier package when the replacing manifest fails', () => {
    const c = modern({
      'a/1/csv.yaml': csv('a.v1', { version: '1.0.0' }),
      'a/x.package.yaml': pkg('a', { old: 'a.v1' }),
      'a/y.package.yaml': pkg('a', { new: 'a.missing' }),
    });
    expect(packageNamed(c, 'a').channels.map((ch) => ch.name)).toEqual(['old']);
    expect(c.problems.map((p) => p.message)).toEqual([
      '[failed to add channel "new" in package "a": FOREIGN KEY constraint failed, no default channel specified for a]',
    ]);
  });

  it('numbers entries after the largest id left when a replaced package was not the last', () => {
    const c = modern({
      'a/1/csv.yaml': csv('a.v1'),
      'a/x.package.yaml': pkg('a', { one: 'a.v1' }),
      'b/1/csv.yaml': csv('b.v1'),
      'b/package.yaml': pkg('b', { one: 'b.v1' }),
      'c/a-again.package.yaml': pkg('a', { two: 'a.v1' }),
    });
    expect(c.packages.map((p) => [p.name, p.entries.map((e) => e.id)])).toEqual([
      ['b', [2]],
      ['a', [3]],
    ]);
  });
});

describe('channel members (what a channel reads back as)', () => {
  it('gives chain nodes their replaces and skips, skip-only bundles neither, and skipRange everywhere', () => {
    const c = modern({
      ...graphFiles,
      // p.v1b also declares a replaces and skips: as a skip target they do not show.
      'p/v1b/csv.yaml': csv('p.v1b', {
        version: '1.0.1',
        replaces: 'p.v1',
        skips: ['p.v0'],
        skipRange: '<1.0.1',
      }),
    });
    const stable = packageNamed(c, 'p').channels.find((ch) => ch.name === 'stable');
    expect(stable?.members).toEqual([
      {
        bundleName: 'p.v3',
        chainNode: true,
        replaces: 'p.v2',
        skips: ['p.v1b', 'gone'],
        skipRange: '',
        loaded: true,
      },
      {
        bundleName: 'p.v1b',
        chainNode: false,
        replaces: '',
        skips: [],
        skipRange: '<1.0.1',
        loaded: true,
      },
      {
        bundleName: 'gone',
        chainNode: false,
        replaces: '',
        skips: [],
        skipRange: '',
        loaded: false,
      },
      {
        bundleName: 'p.v2',
        chainNode: true,
        replaces: 'p.v1',
        skips: [],
        skipRange: '',
        loaded: true,
      },
      { bundleName: 'p.v1', chainNode: true, replaces: '', skips: [], skipRange: '', loaded: true },
    ]);
    const fast = packageNamed(c, 'p').channels.find((ch) => ch.name === 'fast');
    expect(fast?.members.map((m) => [m.bundleName, m.replaces])).toEqual([
      ['p.v2', 'p.v1'],
      ['p.v1', ''],
    ]);
  });

  it('are computed the same under v1.8.0 (they derive from the entries alone)', () => {
    const a = packageNamed(modern(graphFiles), 'p').channels;
    const b = packageNamed(legacy(graphFiles), 'p').channels;
    expect(b).toEqual(a);
  });
});
