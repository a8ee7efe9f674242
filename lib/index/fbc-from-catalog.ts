// The file-based catalog `opm migrate` (operator-registry v1.26.5) writes from the schema-13 DB
// of a catalog, derived from the catalog model (loaded with the v1.26.5 rules) directly, no DB
// in between. Every rule below is a fact of upstream's SQLite → model → declcfg path
// (../shared/reference/modern-olm.md §4); the graph decisions are the model's (Channel.members):
// - entries: the channel's loaded members sorted by name, with replaces/skips for chain nodes
//   only and skipRange on every entry;
// - bundle properties: olm.gvk from the property rows and olm.gvk.required /
//   olm.package.required from the dependency rows (re-encoded), the olm.package rows of the
//   package walk as stored (one synthesised when a bundle has none: skip-only bundles), other
//   property types as stored; distinct, sorted by (type, value), then one olm.bundle.object per
//   object with the exact bytes of the DB `bundle` column; a bundle with olm.deprecated is left out;
// - relatedImages: the CSV's spec.relatedImages, then the other related_image rows with an
//   empty name, sorted by image with Go's (unstable) sort.Slice;
// - the package icon from the default channel head's spec.icon[0], re-encoded base64.
// Packages come out sorted by name, channels and bundles by name, as the files list them.
// What a bundle contributes that does not depend on the package it is listed in is taken
// from it once (fbcBundleParts), so a writer can keep that small, encoded form of every bundle
// instead of the decoded bundles, and make each package's objects from it when its turn comes.
import type { Bundle, LoadedCatalog, Package, Property } from '../catalog/model.js';
import { isObject, type JsonObject } from '../catalog/yaml-document.js';
import {
  type FbcBundle,
  type FbcCatalog,
  type FbcChannel,
  type FbcChannelEntry,
  type FbcIcon,
  type FbcPackage,
  type FbcPackageFile,
  type FbcProperty,
  type FbcRelatedImage,
  PROPERTY_BUNDLE_OBJECT,
  PROPERTY_GVK,
  PROPERTY_GVK_REQUIRED,
  PROPERTY_PACKAGE,
  PROPERTY_PACKAGE_REQUIRED,
  SCHEMA_BUNDLE,
  SCHEMA_CHANNEL,
  SCHEMA_PACKAGE,
} from './fbc-model.js';
import { compareUtf8 as compareBytes, goJsonEncode, goJsonMarshal, RawJson } from './go-json.js';
import { goSortSlice } from './go-sort.js';

/** A package whose FBC objects could not be made (opm migrate would fail on it). */
export interface FbcConversionProblem {
  packageName: string;
  message: string;
}

const STRUCT = { escapeHtml: false, sortKeys: false } as const;

/** Go's base64.StdEncoding.DecodeString: \r and \n ignored, padding required, nothing else. */
export function decodeStdBase64(text: string): Uint8Array | undefined {
  const s = text.replace(/[\r\n]/g, '');
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s)) return undefined;
  return Buffer.from(s, 'base64');
}

function stringOr(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** The package icon as populatePackageIcons takes it from the default channel's head CSV. */
function packageIcon(csv: JsonObject): FbcIcon | undefined {
  const spec = csv.spec;
  if (!isObject(spec) || !Array.isArray(spec.icon) || spec.icon.length === 0) return undefined;
  const icon = spec.icon[0];
  if (!isObject(icon)) return undefined;
  const data = stringOr(icon.base64data);
  const bytes = decodeStdBase64(data) ?? decodeStdBase64(data.replaceAll(' ', ''));
  if (!bytes || bytes.length === 0) return undefined;
  return { base64data: Buffer.from(bytes).toString('base64'), mediatype: stringOr(icon.mediatype) };
}

function gvkValue(text: string): RawJson {
  const k = JSON.parse(text) as Record<string, unknown>;
  return new RawJson(
    goJsonMarshal(
      { group: stringOr(k.group), kind: stringOr(k.kind), version: stringOr(k.version) },
      STRUCT,
    ),
  );
}

const DEPRECATED = 'olm.deprecated';

/** What the FBC needs of a bundle, whichever package lists it. */
export interface FbcBundleParts {
  name: string;
  image: string;
  /** CSV spec.version ('' when absent): the synthesised olm.package's version. */
  version: string;
  /** An olm.deprecated property: the bundle is left out of every channel. */
  deprecated: boolean;
  /** olm.gvk, olm.gvk.required, olm.package.required and the other stored types; unsorted. */
  properties: FbcProperty[];
  /** Each object's JSON bytes (goJsonEncode, without its newline), in file order. */
  objects: Uint8Array[];
  relatedImages: FbcRelatedImage[];
  /** The package icon, should this bundle head the default channel. */
  icon?: FbcIcon;
}

/** A bundle's parts; everything else of the bundle (decoded objects, CSV) can be dropped. */
export function fbcBundleParts(bundle: Bundle): FbcBundleParts {
  const properties: FbcProperty[] = [];
  for (const p of bundle.properties) {
    if (p.type === PROPERTY_GVK) properties.push({ type: PROPERTY_GVK, value: gvkValue(p.value) });
    else properties.push({ type: p.type, value: new RawJson(p.value) });
  }
  for (const d of bundle.dependencies) {
    if (d.type === PROPERTY_GVK)
      properties.push({ type: PROPERTY_GVK_REQUIRED, value: gvkValue(d.value) });
    else if (d.type === PROPERTY_PACKAGE) {
      const v = JSON.parse(d.value) as Record<string, unknown>;
      const value = { packageName: stringOr(v.packageName), versionRange: stringOr(v.version) };
      properties.push({
        type: PROPERTY_PACKAGE_REQUIRED,
        value: new RawJson(goJsonMarshal(value, STRUCT)),
      });
    }
  }
  const objects = bundle.objects.map((obj) => {
    const bytes = goJsonEncode(obj);
    return bytes.subarray(0, bytes.length - 1);
  });
  const icon = packageIcon(bundle.csv);
  return {
    name: bundle.name,
    image: bundle.image ?? '',
    version: bundle.version,
    deprecated: bundle.properties.some((p) => p.type === DEPRECATED),
    properties,
    objects,
    relatedImages: relatedImages(bundle),
    ...(icon ? { icon } : {}),
  };
}

/** A bundle's properties: sorted (type, value) group, then its objects in file order. */
function bundleProperties(
  bundle: FbcBundleParts,
  packageName: string,
  packageRows: readonly Property[],
): FbcProperty[] {
  const props: FbcProperty[] = [...bundle.properties];
  for (const row of packageRows)
    props.push({ type: PROPERTY_PACKAGE, value: new RawJson(row.value) });
  if (packageRows.length === 0) {
    // No olm.package row (a bundle reached only as a skip target): the converter builds one.
    const value = { packageName, version: bundle.version };
    props.push({ type: PROPERTY_PACKAGE, value: new RawJson(goJsonMarshal(value, STRUCT)) });
  }
  const seen = new Set<string>();
  const unique = props.filter((p) => {
    const key = `${p.type}/${p.value.text}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  unique.sort((a, b) => compareBytes(a.type, b.type) || compareBytes(a.value.text, b.value.text));
  for (const bytes of bundle.objects) {
    const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64');
    unique.push({ type: PROPERTY_BUNDLE_OBJECT, value: new RawJson(`{"data":"${data}"}`) });
  }
  return unique;
}

function relatedImages(bundle: Bundle): FbcRelatedImage[] {
  const out: FbcRelatedImage[] = [];
  const spec = bundle.csv.spec;
  const listed = isObject(spec) && Array.isArray(spec.relatedImages) ? spec.relatedImages : [];
  for (const ri of listed) {
    if (!isObject(ri)) continue;
    out.push({ name: stringOr(ri.name), image: stringOr(ri.image) });
  }
  const have = new Set(out.map((r) => r.image));
  for (const image of bundle.relatedImages) if (!have.has(image)) out.push({ name: '', image });
  return goSortSlice(out, (x, y) => compareBytes(x.image, y.image) < 0);
}

/**
 * One package's FBC objects. `bundles` finds a bundle's parts by name (any bundle the
 * package's channels list); `packageRows` are the olm.package rows by bundle name.
 */
export function fbcPackageFile(
  pkg: Package,
  bundles: (name: string) => FbcBundleParts | undefined,
  packageRows: ReadonlyMap<string, Property[]>,
): FbcPackageFile {
  const channels: FbcChannel[] = [];
  const members = new Set<string>();
  for (const c of [...pkg.channels].sort((a, b) => compareBytes(a.name, b.name))) {
    const entries: FbcChannelEntry[] = [];
    for (const m of c.members) {
      if (!m.loaded) continue;
      const bundle = bundles(m.bundleName);
      if (!bundle || bundle.deprecated) continue;
      const entry: FbcChannelEntry = { name: m.bundleName };
      if (m.chainNode && m.replaces) entry.replaces = m.replaces;
      if (m.chainNode && m.skips.length > 0) entry.skips = [...m.skips];
      if (m.skipRange) entry.skipRange = m.skipRange;
      entries.push(entry);
      members.add(m.bundleName);
    }
    entries.sort((a, b) => compareBytes(a.name, b.name));
    channels.push({ schema: SCHEMA_CHANNEL, name: c.name, package: pkg.name, entries });
  }
  const fbcBundles: FbcBundle[] = [];
  for (const name of [...members].sort(compareBytes)) {
    const b = bundles(name)!;
    const out: FbcBundle = {
      schema: SCHEMA_BUNDLE,
      name,
      package: pkg.name,
      image: b.image,
      properties: bundleProperties(b, pkg.name, packageRows.get(name) ?? []),
    };
    if (b.relatedImages.length > 0) out.relatedImages = b.relatedImages;
    fbcBundles.push(out);
  }
  const fbcPackage: FbcPackage = {
    schema: SCHEMA_PACKAGE,
    name: pkg.name,
    defaultChannel: pkg.defaultChannel,
  };
  const head = pkg.channels.find((c) => c.name === pkg.defaultChannel)?.head;
  const icon = head === undefined ? undefined : bundles(head)?.icon;
  if (icon) fbcPackage.icon = icon;
  return { package: fbcPackage, channels, bundles: fbcBundles };
}

/**
 * Each bundle's olm.package rows, whichever package walk stored them (the DB query reads them
 * by bundle name): two different values make opm validate refuse the package later.
 */
export function packageRowsOf(packages: readonly Package[]): Map<string, Property[]> {
  const packageRows = new Map<string, Property[]>();
  for (const p of packages)
    for (const row of p.packageProperties) {
      const list = packageRows.get(row.bundleName) ?? [];
      list.push(row.property);
      packageRows.set(row.bundleName, list);
    }
  return packageRows;
}

/** The FBC objects of every package of a catalog loaded with the v1.26.5 rules. */
export function fbcFromCatalog(catalog: LoadedCatalog): FbcCatalog {
  const bundles = new Map(catalog.bundles.map((b) => [b.name, fbcBundleParts(b)]));
  const packageRows = packageRowsOf(catalog.packages);
  const packages = [...catalog.packages]
    .sort((a, b) => compareBytes(a.name, b.name))
    .map((p) => fbcPackageFile(p, (name) => bundles.get(name), packageRows));
  return { packages };
}
