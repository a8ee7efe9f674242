// The file-based catalog `opm migrate` (operator-registry v1.26.5) writes from the schema-13 DB
// of a catalog, derived from the catalog model directly (no DB in between). Every rule below
// is a fact of upstream's SQLite → model → declcfg path (../shared/reference/modern-olm.md §4):
// - entries: the distinct bundles with a channel_entry row in the channel that were loaded,
//   sorted by name; replaces = what the chain from the channel head says, skips = the targets
//   of the bundle's synthetic entries (so a bundle reached only as a skip target has neither);
//   skipRange on every entry of the bundle;
// - bundle properties: olm.gvk / olm.gvk.required (distinct, re-encoded), olm.package (the DB
//   row's value for a chain node, synthesised for a skip-only bundle), sorted by (type, value),
//   then one olm.bundle.object per object with the exact bytes of the DB `bundle` column;
// - relatedImages: the CSV's spec.relatedImages, then the other related_image rows with an
//   empty name, sorted by image with Go's (unstable) sort.Slice;
// - the package icon from the default channel head's spec.icon[0], re-encoded base64.
// Packages come out sorted by name, channels and bundles by name, as the files list them.
import type { Bundle, ChannelEntry, LoadedCatalog, Package } from '../catalog/model.js';
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

/** One channel's entries as ListBundles reads them from channel_entry. */
function channelEntries(
  entries: readonly ChannelEntry[],
  bundles: ReadonlyMap<string, Bundle>,
): { entries: FbcChannelEntry[]; chainNodes: Set<string> } {
  const byId = new Map(entries.map((e) => [e.id, e]));
  // replaces_entry: the depth-0 entries and everything reached through their replaces.
  const chain = new Set<number>();
  for (const e of entries) {
    if (e.depth !== 0) continue;
    let cur: ChannelEntry | undefined = e;
    while (cur && !chain.has(cur.id)) {
      chain.add(cur.id);
      cur = cur.replaces === undefined ? undefined : byId.get(cur.replaces);
    }
  }
  const replaces = new Map<string, string>();
  const skips = new Map<string, string[]>();
  const names = new Set<string>();
  const chainNodes = new Set<string>();
  for (const e of entries) {
    names.add(e.bundleName);
    const target = e.replaces === undefined ? undefined : byId.get(e.replaces)?.bundleName;
    if (chain.has(e.id)) {
      chainNodes.add(e.bundleName);
      if (target !== undefined) {
        const prev = replaces.get(e.bundleName);
        if (prev === undefined || compareBytes(target, prev) > 0)
          replaces.set(e.bundleName, target);
      }
    } else if (target !== undefined) {
      const list = skips.get(e.bundleName) ?? [];
      list.push(target);
      skips.set(e.bundleName, list);
    }
  }
  const out: FbcChannelEntry[] = [];
  for (const name of [...names].sort(compareBytes)) {
    const bundle = bundles.get(name);
    if (!bundle) continue;
    const entry: FbcChannelEntry = { name };
    const r = replaces.get(name);
    if (r) entry.replaces = r;
    const s = skips.get(name);
    if (s && s.length > 0) entry.skips = s;
    if (bundle.skipRange) entry.skipRange = bundle.skipRange;
    out.push(entry);
  }
  return { entries: out, chainNodes };
}

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

function gvkValue(k: { group: string; kind: string; version: string }): RawJson {
  return new RawJson(goJsonMarshal({ group: k.group, kind: k.kind, version: k.version }, STRUCT));
}

/** A bundle's properties: sorted (type, value) group, then its objects in file order. */
function bundleProperties(bundle: Bundle, packageName: string, chainNode: boolean): FbcProperty[] {
  const props: FbcProperty[] = [];
  for (const k of bundle.provided) props.push({ type: PROPERTY_GVK, value: gvkValue(k) });
  for (const k of bundle.required) props.push({ type: PROPERTY_GVK_REQUIRED, value: gvkValue(k) });
  // A chain node has the loader's olm.package row (Go json.Marshal, HTML-escaped); a skip-only
  // bundle gets one built by the converter (no HTML escaping).
  const pkgValue = { packageName, version: bundle.version };
  props.push({
    type: PROPERTY_PACKAGE,
    value: new RawJson(goJsonMarshal(pkgValue, chainNode ? { sortKeys: false } : STRUCT)),
  });
  const seen = new Set<string>();
  const unique = props.filter((p) => {
    const key = `${p.type}/${p.value.text}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  unique.sort((a, b) => compareBytes(a.type, b.type) || compareBytes(a.value.text, b.value.text));
  for (const obj of bundle.objects) {
    const bytes = goJsonEncode(obj);
    const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length - 1).toString('base64');
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

function packageFile(pkg: Package, bundles: ReadonlyMap<string, Bundle>): FbcPackageFile {
  const channels: FbcChannel[] = [];
  const members = new Set<string>();
  const chainNodes = new Set<string>();
  for (const c of [...pkg.channels].sort((a, b) => compareBytes(a.name, b.name))) {
    const rows = pkg.entries.filter((e) => e.channel === c.name);
    const { entries, chainNodes: nodes } = channelEntries(rows, bundles);
    for (const e of entries) members.add(e.name);
    for (const n of nodes) chainNodes.add(n);
    channels.push({ schema: SCHEMA_CHANNEL, name: c.name, package: pkg.name, entries });
  }
  const fbcBundles: FbcBundle[] = [];
  for (const name of [...members].sort(compareBytes)) {
    const b = bundles.get(name)!;
    const out: FbcBundle = {
      schema: SCHEMA_BUNDLE,
      name,
      package: pkg.name,
      image: '',
      properties: bundleProperties(b, pkg.name, chainNodes.has(name)),
    };
    const images = relatedImages(b);
    if (images.length > 0) out.relatedImages = images;
    fbcBundles.push(out);
  }
  const fbcPackage: FbcPackage = {
    schema: SCHEMA_PACKAGE,
    name: pkg.name,
    defaultChannel: pkg.defaultChannel,
  };
  const head = pkg.channels.find((c) => c.name === pkg.defaultChannel)?.head;
  const headBundle = head === undefined ? undefined : bundles.get(head);
  const icon = headBundle ? packageIcon(headBundle.csv) : undefined;
  if (icon) fbcPackage.icon = icon;
  return { package: fbcPackage, channels, bundles: fbcBundles };
}

/** The FBC objects of every package of the catalog. */
export function fbcFromCatalog(catalog: LoadedCatalog): FbcCatalog {
  const bundles = new Map(catalog.bundles.map((b) => [b.name, b]));
  const packages = [...catalog.packages]
    .sort((a, b) => compareBytes(a.name, b.name))
    .map((p) => packageFile(p, bundles));
  return { packages };
}
