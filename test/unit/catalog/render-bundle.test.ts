// Bundle-format folders as `opm render` v1.26.5 turns them into olm.bundle objects: which
// properties come from where (annotations, properties.yaml, dependencies.yaml, the CSV's
// olm.properties, CRDs), their order, bundle objects in file order, related images sorted with
// the bundle image among them, and the bundles upstream refuses.
import { describe, expect, it } from 'vitest';
import {
  BundleFormatError,
  type FormatBundle,
  parseBundleFormat,
} from '../../../lib/catalog/bundle-format.js';
import { renderBundle } from '../../../lib/catalog/render-bundle.js';
import { crd, csv, fileTree } from './manifest-builders.js';

const ANNOTATIONS = {
  annotations: {
    'operators.operatorframework.io.bundle.package.v1': 'demo',
    'operators.operatorframework.io.bundle.channels.v1': 'stable,fast',
    'operators.operatorframework.io.bundle.channel.default.v1': 'stable',
    'operators.operatorframework.io.bundle.mediatype.v1': 'registry+v1',
  },
};

function demoCsv() {
  const c = csv('demo.v1.0.0', {
    version: '1.0.0',
    replaces: 'demo.v0.9.0',
    owned: [{ name: 'widgets.demo.io', version: 'v1', kind: 'Widget' }],
    required: [{ name: 'gadgets.other.io', version: 'v1', kind: 'Gadget' }],
    relatedImages: [{ name: 'operand', image: 'quay.io/demo/operand:1' }],
    deployments: [{ containers: ['quay.io/demo/operator:1', 'quay.io/demo/operand:1'] }],
  });
  (c.metadata as Record<string, unknown>).annotations = {
    'olm.properties':
      '[{"type":"olm.maxOpenShiftVersion","value":"4.12"},{"type":"olm.label","value":{"z":1,"a":"x<y"}}]',
  };
  return c;
}

function demoTree(extra: Record<string, string | Record<string, unknown>> = {}) {
  return fileTree({
    'manifests/demo.clusterserviceversion.yaml': demoCsv(),
    'manifests/widgets.crd.yaml': crd(
      'widgets',
      'demo.io',
      'Widget',
      ['v1', 'v1beta1'],
      'apiextensions.k8s.io/v1',
    ),
    'manifests/a-service.yaml': { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' } },
    'metadata/annotations.yaml': ANNOTATIONS,
    'metadata/dependencies.yaml': {
      dependencies: [
        { type: 'olm.package', value: { packageName: 'base', version: '>=1.0.0' } },
        { type: 'olm.gvk', value: { group: 'dep.io', kind: 'Dep', version: 'v1' } },
      ],
    },
    'metadata/properties.yaml': {
      properties: [
        { type: 'olm.constraint', value: { failureMessage: 'needs x', cel: { rule: 'true' } } },
      ],
    },
    ...extra,
  });
}

const decode = (data: unknown) =>
  JSON.parse(Buffer.from((data as { data: string }).data, 'base64').toString('utf8'));

describe('parseBundleFormat + renderBundle', () => {
  it('writes the olm.bundle opm render writes for the image', () => {
    const b = parseBundleFormat(demoTree(), 'demo/1.0.0');
    const out = renderBundle(b, 'registry.example/demo-bundle:1.0.0');
    expect(out.name).toBe('demo.v1.0.0');
    expect(out.package).toBe('demo');
    expect(out.image).toBe('registry.example/demo-bundle:1.0.0');
    const head = out.properties.filter((p) => p.type !== 'olm.bundle.object');
    expect(head).toEqual([
      { type: 'olm.constraint', value: { cel: { rule: 'true' }, failureMessage: 'needs x' } },
      { type: 'olm.gvk', value: { group: 'demo.io', kind: 'Widget', version: 'v1' } },
      { type: 'olm.gvk', value: { group: 'demo.io', kind: 'Widget', version: 'v1beta1' } },
      { type: 'olm.gvk.required', value: { group: 'dep.io', kind: 'Dep', version: 'v1' } },
      { type: 'olm.gvk.required', value: { group: 'other.io', kind: 'Gadget', version: 'v1' } },
      { type: 'olm.label', value: { z: 1, a: 'x<y' } },
      { type: 'olm.maxOpenShiftVersion', value: '4.12' },
      { type: 'olm.package', value: { packageName: 'demo', version: '1.0.0' } },
      { type: 'olm.package.required', value: { packageName: 'base', versionRange: '>=1.0.0' } },
    ]);
    // the annotation's own key order is kept
    expect(Object.keys(head[5]!.value as object)).toEqual(['z', 'a']);
    const objects = out.properties.filter((p) => p.type === 'olm.bundle.object');
    expect(objects.map((p) => decode(p.value).kind)).toEqual([
      'Service',
      'ClusterServiceVersion',
      'CustomResourceDefinition',
    ]);
    // Go's json.Marshal of the object: sorted keys
    const raw = Buffer.from((objects[0]!.value as { data: string }).data, 'base64').toString();
    expect(raw).toBe('{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"}}');
    expect(out.relatedImages).toEqual([
      { name: 'operand', image: 'quay.io/demo/operand:1' },
      { name: '', image: 'quay.io/demo/operator:1' },
      { name: '', image: 'registry.example/demo-bundle:1.0.0' },
    ]);
  });

  it('from a folder: image "" and no empty related image', () => {
    const out = renderBundle(parseBundleFormat(demoTree(), 'demo/1.0.0'), '');
    expect(out.image).toBe('');
    expect(out.relatedImages?.map((r) => r.image)).toEqual([
      'quay.io/demo/operand:1',
      'quay.io/demo/operator:1',
    ]);
  });

  it('sorts related images with Go sort.Slice, as opm render: ties above 12 are not stable', () => {
    // Twelve images and one of them again under a second name, last: Go 1.19's pdqsort puts
    // the later entry first, where a stable sort would keep it second.
    const images = Array.from({ length: 12 }, (_, i) => ({
      name: 'a',
      image: `quay.io/demo/img:${String(i).padStart(2, '0')}`,
    }));
    const c = csv('demo.v1.0.0', {
      version: '1.0.0',
      relatedImages: [...images, { name: 'b', image: 'quay.io/demo/img:05' }],
    });
    const tree = fileTree({
      'manifests/demo.clusterserviceversion.yaml': c,
      'metadata/annotations.yaml': ANNOTATIONS,
    });
    const out = renderBundle(parseBundleFormat(tree, 'demo/1.0.0'), '');
    expect(out.relatedImages?.map((r) => r.image)).toEqual(
      [...images.map((r) => r.image), 'quay.io/demo/img:05'].sort(),
    );
    const tied = out.relatedImages?.filter((r) => r.image === 'quay.io/demo/img:05');
    expect(tied?.map((r) => r.name)).toEqual(['b', 'a']);
  });

  it('keeps the annotations and the graph fields of the CSV', () => {
    const b: FormatBundle = parseBundleFormat(demoTree(), 'demo/1.0.0');
    expect(b.annotations).toEqual({
      packageName: 'demo',
      channels: ['stable', 'fast'],
      defaultChannel: 'stable',
    });
    expect(b.replaces).toBe('demo.v0.9.0');
    expect(b.version).toBe('1.0.0');
  });

  it('uses only the first document of a file and says so; later CSVs are left out', () => {
    const tree = demoTree({
      'manifests/b-multi.yaml':
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: one\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: two\n',
      'manifests/z-second.clusterserviceversion.yaml': csv('other.v1'),
      'manifests/notes.yaml': 'just: text\n',
      'manifests/.hidden.yaml': { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'h' } },
    });
    const b = parseBundleFormat(tree, 'demo/1.0.0');
    expect(b.objects.map((o) => `${o.kind}/${(o.metadata as { name: string }).name}`)).toEqual([
      'Service/s',
      'ConfigMap/one',
      'ClusterServiceVersion/demo.v1.0.0',
      'CustomResourceDefinition/widgets.demo.io',
    ]);
    expect(b.warnings).toEqual([
      'found more than one document inside manifests/b-multi.yaml, using only the first one',
      "failed to decode: manifests/notes.yaml: Object 'Kind' is missing",
    ]);
  });

  it('a CRD of another apiextensions version provides nothing (v1.26.5), an owned CRD missing fails', () => {
    const tree = fileTree({
      'manifests/csv.yaml': demoCsv(),
      'manifests/widgets.crd.yaml': crd(
        'widgets',
        'demo.io',
        'Widget',
        ['v1'],
        'apiextensions.k8s.io/v2',
      ),
      'metadata/annotations.yaml': ANNOTATIONS,
    });
    expect(() => parseBundleFormat(tree, 'demo/1.0.0')).toThrow(BundleFormatError);
    expect(() => parseBundleFormat(tree, 'demo/1.0.0')).toThrow(
      /reading bundle demo\/1.0.0: error checking provided apis in bundle demo.v1.0.0: couldn't find \{demo.io v1 Widget widgets\} in bundle/,
    );
  });

  it('refuses a folder without annotations, without objects or without a CSV', () => {
    const noAnnotations = fileTree({ 'manifests/csv.yaml': csv('x.v1') });
    expect(() => parseBundleFormat(noAnnotations, 'x')).toThrow(
      'reading bundle x: Could not find annotations file',
    );
    const noObjects = fileTree({ 'metadata/annotations.yaml': ANNOTATIONS });
    expect(() => parseBundleFormat(noObjects, 'x')).toThrow(
      'reading bundle x: no bundle objects found',
    );
    const noCsv = fileTree({
      'manifests/s.yaml': { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' } },
      'metadata/annotations.yaml': ANNOTATIONS,
    });
    expect(() => parseBundleFormat(noCsv, 'x')).toThrow('reading bundle x: no csv in bundle');
  });

  it('an olm.package in properties.yaml wins over the derived one (the last one read wins)', () => {
    const tree = demoTree({
      'metadata/properties.yaml': {
        properties: [{ type: 'olm.package', value: { packageName: 'demo', version: '9.9.9' } }],
      },
    });
    const out = renderBundle(parseBundleFormat(tree, 'demo/1.0.0'), '');
    // properties.yaml comes first, the annotation-derived one later, and the later one wins
    expect(out.properties.filter((p) => p.type === 'olm.package')).toEqual([
      { type: 'olm.package', value: { packageName: 'demo', version: '1.0.0' } },
    ]);
  });
});
