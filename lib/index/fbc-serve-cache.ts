// The cache `opm serve /configs --cache-dir=/tmp/cache --cache-only` (operator-registry
// v1.26.5, pkg/cache JSON) writes, built from our FBC objects instead of by running opm: an FBC
// image carries it so that the server starts with cache integrity enforced (its default) and
// needs no writable /tmp. Files, relative to the cache dir:
//   digest                               FNV-1a 64 (go-tar-fnv) of the configs and cache/ trees
//   cache/packages.json                  json.Marshal of the package index (Go maps: sorted keys)
//   cache/<pkg>_<channel>_<bundle>.json  json.Marshal of the api.Bundle served for that entry
// Everything is what opm derives after loading the FBC: property values as the declcfg loader
// reads them (`\u003c` `\u003e` `\u0026` turned into the characters, then compacted),
// olm.bundle.object data decoded, the CSV the first object of that kind, replaces/skips/
// skipRange from the channel entry, and json.Marshal's HTML escaping on the way out.
// The pieces are per package (packageCacheFiles, packageIndexEntry, packagesJson), so a writer
// can make a package's cache files when it has that package and nothing else.

import { channelHead } from './fbc-graph.js';
import { CACHE_DIR_MODE, CACHE_FILE_MODE } from './fbc-image.js';
import {
  type FbcBundle,
  type FbcCatalog,
  type FbcChannelEntry,
  type FbcPackageFile,
  PROPERTY_BUNDLE_OBJECT,
  PROPERTY_GVK,
  PROPERTY_GVK_REQUIRED,
  PROPERTY_PACKAGE,
  PROPERTY_PACKAGE_REQUIRED,
} from './fbc-model.js';
import { compareUtf8, goJsonMarshal } from './go-json.js';
import { serveCacheDigest, type Tree, treeOf } from './go-tar-fnv.js';

export const CACHE_DIGEST_FILE = 'digest';
export const CACHE_SUBDIR = 'cache';

export interface CacheFile {
  /** Relative to the cache dir, e.g. `cache/packages.json`. */
  path: string;
  data: Uint8Array;
}

export interface ServeCache {
  digest: string;
  /** `digest` first, then the cache/ files in walk order. */
  files: CacheFile[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What declcfg.LoadReader does to a document's text before decoding it. */
function unescapeHtml(text: string): string {
  return text.replaceAll('\\u003c', '<').replaceAll('\\u003e', '>').replaceAll('\\u0026', '&');
}

interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

function stringOf(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function gvkOf(text: string): GroupVersionKind {
  const v = JSON.parse(text) as Record<string, unknown>;
  return { group: stringOf(v.group), version: stringOf(v.version), kind: stringOf(v.kind) };
}

/** A Go struct with omitempty fields: empty strings and empty/absent lists are left out. */
function omitEmpty(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined || v === '' || (Array.isArray(v) && v.length === 0)) continue;
    out[k] = v;
  }
  return out;
}

function isCsv(objectJson: string): boolean {
  try {
    const o = JSON.parse(objectJson) as { kind?: unknown };
    return o !== null && o.kind === 'ClusterServiceVersion';
  } catch {
    return false;
  }
}

/** The parts of an api.Bundle that do not depend on the channel. */
export interface ApiBundleBase {
  objects: string[];
  csvJson: string;
  providedApis: Record<string, unknown>[];
  requiredApis: Record<string, unknown>[];
  version: string;
  dependencies: Record<string, unknown>[];
  properties: Record<string, unknown>[];
}

export function apiBundleBase(bundle: FbcBundle): ApiBundleBase {
  const base: ApiBundleBase = {
    objects: [],
    csvJson: '',
    providedApis: [],
    requiredApis: [],
    version: '',
    dependencies: [],
    properties: [],
  };
  let versionSet = false;
  for (const p of bundle.properties ?? []) {
    const text = unescapeHtml(p.value.text);
    if (p.type === PROPERTY_BUNDLE_OBJECT) {
      const data = (JSON.parse(text) as { data?: string }).data ?? '';
      base.objects.push(decoder.decode(Buffer.from(data, 'base64')));
      continue;
    }
    base.properties.push({ type: p.type, value: text });
    if (p.type === PROPERTY_GVK) base.providedApis.push(omitEmpty({ ...gvkOf(text) }));
    else if (p.type === PROPERTY_GVK_REQUIRED) {
      base.requiredApis.push(omitEmpty({ ...gvkOf(text) }));
      base.dependencies.push({ type: PROPERTY_GVK, value: text });
    } else if (p.type === PROPERTY_PACKAGE_REQUIRED) {
      const v = JSON.parse(text) as Record<string, unknown>;
      const value = goJsonMarshal(
        { packageName: stringOf(v.packageName), version: stringOf(v.versionRange) },
        { escapeHtml: false, sortKeys: false },
      );
      base.dependencies.push({ type: PROPERTY_PACKAGE, value });
    } else if (p.type === PROPERTY_PACKAGE && !versionSet) {
      base.version = stringOf((JSON.parse(text) as Record<string, unknown>).version);
      versionSet = true;
    }
  }
  base.csvJson = base.objects.find(isCsv) ?? '';
  return base;
}

export function apiBundleJson(
  bundle: FbcBundle,
  base: ApiBundleBase,
  channel: string,
  entry: FbcChannelEntry,
): string {
  return goJsonMarshal(
    omitEmpty({
      csvName: bundle.name,
      packageName: bundle.package,
      channelName: channel,
      csvJson: base.csvJson,
      object: base.objects,
      bundlePath: bundle.image,
      providedApis: base.providedApis,
      requiredApis: base.requiredApis,
      version: base.version,
      skipRange: entry.skipRange,
      dependencies: base.dependencies,
      properties: base.properties.map((p) => omitEmpty(p)),
      replaces: entry.replaces,
      skips: entry.skips,
    }),
    { sortKeys: false },
  );
}

/** A Go map[string]T: encoded with its keys sorted. */
function goMap(record: Map<string, unknown>): Map<string, unknown> {
  return new Map([...record.entries()].sort(([a], [b]) => compareUtf8(a, b)));
}

/** The cache file of one channel entry of a package, relative to the cache dir. */
export function cacheFilePath(packageName: string, channel: string, bundle: string): string {
  return `${CACHE_SUBDIR}/${packageName}_${channel}_${bundle}.json`;
}

/** A cache file of a package: its path and the channel entry and bundle (indexes) it is made from. */
export interface CacheFileSpec {
  path: string;
  channel: number;
  entry: number;
  bundle: number;
}

/**
 * The cache files of one package's channel entries that have a bundle, in the order opm's
 * cache builder writes them (channels, then entries, as the file lists them).
 */
export function packageCacheSpecs(file: FbcPackageFile): CacheFileSpec[] {
  // The first bundle of each name, as a search of the list would find it.
  const bundles = new Map<string, number>();
  file.bundles.forEach((b, i) => {
    if (!bundles.has(b.name)) bundles.set(b.name, i);
  });
  const specs: CacheFileSpec[] = [];
  file.channels.forEach((ch, channel) => {
    ch.entries.forEach((e, entry) => {
      const bundle = bundles.get(e.name);
      if (bundle !== undefined)
        specs.push({
          path: cacheFilePath(file.package.name, ch.name, e.name),
          channel,
          entry,
          bundle,
        });
    });
  });
  return specs;
}

/**
 * One cache file's bytes. `bases` may carry the api.Bundle bases between calls (a bundle in
 * several channels is decoded once).
 */
export function packageCacheFile(
  file: FbcPackageFile,
  spec: CacheFileSpec,
  bases: Map<string, ApiBundleBase> = new Map(),
): CacheFile {
  const ch = file.channels[spec.channel]!;
  const entry = ch.entries[spec.entry]!;
  const bundle = file.bundles[spec.bundle]!;
  let base = bases.get(bundle.name);
  if (!base) {
    base = apiBundleBase(bundle);
    bases.set(bundle.name, base);
  }
  return { path: spec.path, data: encoder.encode(apiBundleJson(bundle, base, ch.name, entry)) };
}

/** The cache files of one package's channel entries, in the order opm writes them. */
export function packageCacheFiles(file: FbcPackageFile): CacheFile[] {
  const bases = new Map<string, ApiBundleBase>();
  return packageCacheSpecs(file).map((spec) => packageCacheFile(file, spec, bases));
}

/** The package's value in packages.json (small: names, heads, the icon). */
export function packageIndexEntry(file: FbcPackageFile): unknown {
  const pkg = file.package;
  const channels = new Map<string, unknown>();
  for (const ch of file.channels) {
    const cacheBundles = new Map<string, unknown>();
    for (const entry of ch.entries)
      cacheBundles.set(entry.name, {
        package: pkg.name,
        channel: ch.name,
        name: entry.name,
        replaces: entry.replaces ?? '',
        skips: entry.skips ?? null,
      });
    channels.set(ch.name, {
      Name: ch.name,
      Head: channelHead(ch.entries) ?? '',
      Bundles: goMap(cacheBundles),
    });
  }
  return {
    name: pkg.name,
    description: pkg.description ?? '',
    icon: pkg.icon ? { base64data: pkg.icon.base64data, mediatype: pkg.icon.mediatype } : null,
    defaultChannel: pkg.defaultChannel,
    Channels: goMap(channels),
  };
}

export const PACKAGES_JSON = `${CACHE_SUBDIR}/packages.json`;

/** cache/packages.json from every package's index entry, by package name. */
export function packagesJson(entries: Map<string, unknown>): CacheFile {
  return {
    path: PACKAGES_JSON,
    data: encoder.encode(goJsonMarshal(goMap(entries), { sortKeys: false })),
  };
}

/** Builds the cache for a catalog whose configs tree (as the image holds it) is `configs`. */
export function buildServeCache(catalog: FbcCatalog, configs: Tree): ServeCache {
  const files: CacheFile[] = [];
  const packages = new Map<string, unknown>();
  for (const file of catalog.packages) {
    files.push(...packageCacheFiles(file));
    packages.set(file.package.name, packageIndexEntry(file));
  }
  files.push(packagesJson(packages));
  const cacheTree = treeOf(
    files.map((f) => ({ path: f.path.slice(CACHE_SUBDIR.length + 1), data: f.data })),
    { dir: CACHE_DIR_MODE, file: CACHE_FILE_MODE },
  );
  const digest = serveCacheDigest(configs, cacheTree);
  const ordered = cacheTree.entries.map((e) => ({
    path: `${CACHE_SUBDIR}/${e.path}`,
    data: e.data as Uint8Array,
  }));
  return { digest, files: [{ path: CACHE_DIGEST_FILE, data: encoder.encode(digest) }, ...ordered] };
}
