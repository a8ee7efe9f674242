// A parsed bundle as the `olm.bundle` object `opm render` v1.26.5 writes for its image
// (alpha/action/render.go: bundleToDeclcfg, ObjectsAndPropertiesFromBundle, getRelatedImages,
// then renderBundleObjects and the relatedImages sort). From a directory there is no image:
// `image` is "" and, unlike upstream's literal code, "" is not listed as a related image.
import { goJsonMarshal } from '../index/go-json.js';
import { goSortSlice } from '../index/go-sort.js';
import type { FormatBundle, RawProperty } from './bundle-format.js';
import { objectField, objectItems, stringField } from './csv-fields.js';
import { compareBytes } from './file-tree.js';
import { isObject, type JsonObject } from './yaml-document.js';

export interface DeclProperty {
  type: string;
  value: unknown;
}

export interface DeclRelatedImage {
  name: string;
  image: string;
}

/** An `olm.bundle` in the key order declcfg writes it. */
export interface DeclBundle {
  schema: 'olm.bundle';
  name: string;
  package: string;
  image: string;
  properties: DeclProperty[];
  relatedImages?: DeclRelatedImage[];
}

interface SortableProperty extends DeclProperty {
  raw: string;
}

function built(type: string, value: JsonObject): SortableProperty {
  return { type, value, raw: goJsonMarshal(value) };
}

function gvkId(v: unknown): string {
  const o = isObject(v) ? v : {};
  const s = (x: unknown) => (typeof x === 'string' ? x : '');
  return JSON.stringify([s(o.group), s(o.kind), s(o.version)]);
}

function gvkValue(id: string): JsonObject {
  const [group, kind, version] = JSON.parse(id) as string[];
  return { group, kind, version };
}

function str(v: unknown, key: string): string {
  return isObject(v) && typeof v[key] === 'string' ? (v[key] as string) : '';
}

/** ObjectsAndPropertiesFromBundle: properties (without bundle objects) sorted by (type, raw value). */
function bundleProperties(b: FormatBundle): SortableProperty[] {
  const provided = new Set<string>();
  const required = new Set<string>();
  let pkg: SortableProperty | undefined;
  const others: SortableProperty[] = [];
  const other = (p: RawProperty) => others.push({ type: p.type, value: p.value, raw: p.raw });
  for (const p of b.properties) {
    if (p.type === 'olm.gvk') provided.add(gvkId(p.value));
    else if (p.type === 'olm.package')
      pkg = built('olm.package', {
        packageName: str(p.value, 'packageName'),
        version: str(p.value, 'version'),
      });
    else other(p);
  }
  const packageRequired: SortableProperty[] = [];
  for (const d of b.dependencies) {
    if (d.type === 'olm.gvk') required.add(gvkId(d.value));
    else if (d.type === 'olm.package')
      packageRequired.push(
        built('olm.package.required', {
          packageName: str(d.value, 'packageName'),
          versionRange: str(d.value, 'version'),
        }),
      );
    else other(d);
  }
  for (const k of b.provided) provided.add(gvkId(k));
  for (const k of b.required) required.add(gvkId(k));
  const props: SortableProperty[] = [
    pkg ?? built('olm.package', { packageName: b.annotations.packageName, version: b.version }),
    ...[...provided].map((id) => built('olm.gvk', gvkValue(id))),
    ...[...required].map((id) => built('olm.gvk.required', gvkValue(id))),
    ...packageRequired,
    ...others,
  ];
  // Equal (type, value) pairs are identical, so an unstable sort cannot be told apart here.
  return props.sort((x, y) => compareBytes(x.type, y.type) || compareBytes(x.raw, y.raw));
}

/** Deployment container and init container images of the "deployment" install strategy. */
function operatorImages(csv: JsonObject): string[] {
  const spec = objectField(csv, 'spec', 'ClusterServiceVersion.spec');
  const install = objectField(spec, 'install', '.install');
  if (!install || stringField(install, 'strategy', 'strategy') !== 'deployment') return [];
  const images = new Set<string>();
  const details = objectField(install, 'spec', 'strategy.spec');
  for (const d of objectItems(details, 'deployments', 'deployments')) {
    const pod = objectField(
      objectField(objectField(d, 'spec', 'dep.spec'), 'template', 'DeploymentSpec.template'),
      'spec',
      'PodTemplateSpec.spec',
    );
    for (const key of ['containers', 'initContainers'])
      for (const c of objectItems(pod, key, `PodSpec.${key}`))
        images.add(stringField(c, 'image', 'Container.image'));
  }
  return [...images];
}

/** getRelatedImages: the CSV's list, then the bundle image, then operator images not yet listed. */
function relatedImages(b: FormatBundle, image: string): DeclRelatedImage[] {
  const spec = objectField(b.csv, 'spec', 'ClusterServiceVersion.spec');
  const list: DeclRelatedImage[] = objectItems(spec, 'relatedImages', '.relatedImages').map(
    (r) => ({ name: stringField(r, 'name', 'name'), image: stringField(r, 'image', 'image') }),
  );
  const all = new Set(list.map((r) => r.image));
  if (image !== '' && !all.has(image)) list.push({ name: '', image });
  for (const img of operatorImages(b.csv)) {
    if (!all.has(img)) list.push({ name: '', image: img });
    all.add(img);
  }
  // opm render sorts with Go's sort.Slice by image only, which is not stable above 12
  // elements: the same pdqsort (the one the FBC writer uses) leaves one image listed under two
  // names in upstream's order. Upstream appends the operator images in Go map order, which no
  // rule can reproduce; we append them in CSV order.
  return goSortSlice(list, (x, y) => compareBytes(x.image, y.image) < 0);
}

/** Standard base64 of a string's UTF-8 bytes. */
function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

export function renderBundle(b: FormatBundle, image: string): DeclBundle {
  const properties: DeclProperty[] = bundleProperties(b).map(({ type, value }) => ({
    type,
    value,
  }));
  for (const obj of b.objects)
    properties.push({ type: 'olm.bundle.object', value: { data: base64(goJsonMarshal(obj)) } });
  const related = relatedImages(b, image);
  const out: DeclBundle = {
    schema: 'olm.bundle',
    name: b.name,
    package: b.annotations.packageName,
    image,
    properties,
  };
  if (related.length > 0) out.relatedImages = related;
  return out;
}
