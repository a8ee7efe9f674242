// The catalog domain, as operator-registry names it, independent of any storage: a loaded
// catalog is the set of Bundles that were accepted, the Packages whose channel graph was
// accepted (with their ChannelEntries), and every Problem met on the way. The writers
// (lib/index: SQLite schema 7, SQLite schema 13, file-based catalog) turn this into rows or
// files without taking any decision of their own. Which operator-registry's loader rules made
// the value is an explicit option (`LoaderRules`), never a second loader: v1.8.0 (oc 4.5,
// schema 7) or v1.26.5 (schema 13 and FBC). Everything v1.26.5 adds is computed here too:
// property and dependency rows, the olm.package rows of the package walk, and each channel's
// graph per bundle as `opm migrate` reads it back.
import type { DocumentDecoder } from './manifest-tree.js';
import type { DocumentLimits, JsonObject } from './yaml-document.js';

/**
 * Whose directory-loader rules a catalog is loaded with:
 * - 'v1.8.0': operator-registry v1.8.0 (oc 4.5/4.6), only CRD apiextensions v1beta1, no
 *   property rows, a second manifest of a package name is an error;
 * - 'v1.26.5': CRD v1 accepted (other apiVersions ignored), `olm.substitutesFor` rejected,
 *   properties/dependencies rows, olm.package rows per chain-node visit, a second manifest of
 *   a package name replaces the first, v1.26.5's error texts.
 */
export type LoaderRules = 'v1.8.0' | 'v1.26.5';

export const LOADER_RULES: readonly LoaderRules[] = ['v1.8.0', 'v1.26.5'];

export interface LoadOptions {
  /** Default 'v1.8.0' (the oc 4.5 fidelity every existing output keeps). */
  rules?: LoaderRules;
  /** Decoding limits for every manifest (default DEFAULT_DOCUMENT_LIMITS). */
  limits?: DocumentLimits;
  /**
   * Decodes a package-manifest load's parts ahead of it (another thread, while earlier parts
   * are loaded). Unset: each file is decoded when the walk first reads it.
   */
  decoder?: DocumentDecoder;
}

/**
 * A property or dependency row: `type` and `value`, the value being the compact JSON text
 * upstream stores (Go json.Marshal: struct key order, `<>&` escaped; annotation values keep
 * their own key order).
 */
export interface Property {
  type: string;
  value: string;
}

/** One olm.package row of the package walk (v1.26.5): the bundle visited as a chain node. */
export interface PackageProperty {
  bundleName: string;
  /** The bundle's version ('' when its CSV has none; the row's version column is then NULL). */
  version: string;
  /** The bundle's image ('' for a folder; the row's path column is then NULL). */
  bundlePath: string;
  /** `{"packageName":…,"version":…}`, type olm.package. */
  property: Property;
}

/** A group/version/kind with its plural, as the api tables key it. */
export interface ApiKey {
  group: string;
  version: string;
  kind: string;
  plural: string;
}

/** One ClusterServiceVersion with every object of its folder (an appregistry-era bundle). */
export interface Bundle {
  /** The CSV's metadata.name. */
  name: string;
  /** Folder the bundle was read from, relative to the manifests root. */
  dir: string;
  /** The bundle image it was pulled from (operatorbundle.bundlepath); absent for folders. */
  image?: string;
  /** The CSV object as decoded. */
  csv: JsonObject;
  /** Every object of the bundle, in file-name order (the CSV among them). */
  objects: JsonObject[];
  /** spec.version, '' when absent. */
  version: string;
  /** metadata.annotations["olm.skipRange"], '' when absent. */
  skipRange: string;
  /** spec.replaces, '' when absent. */
  replaces: string;
  /** spec.skips. */
  skips: string[];
  /** Distinct images: spec.relatedImages[].image and the deployment containers' images. */
  relatedImages: string[];
  provided: ApiKey[];
  required: ApiKey[];
  /**
   * v1.26.5 (empty under v1.8.0): the property rows of the bundle insert (walk 1): olm.gvk per
   * distinct (group, version, kind) provided, then the `olm.properties` annotation's entries,
   * de-duplicated by (type, value). The olm.package rows come from the package walk
   * (`Package.packageProperties`).
   */
  properties: Property[];
  /** v1.26.5 (empty under v1.8.0): one olm.gvk dependency row per distinct required API. */
  dependencies: Property[];
}

/** A channel as a package manifest names it. */
export interface ManifestChannel {
  name: string;
  /** The channel head: the currentCSV of the package manifest. */
  head: string;
}

/**
 * One distinct bundle name of a channel's graph, as operator-registry reads a channel back
 * (its ListBundles query, what `opm migrate` turns into FBC entries): chain nodes are the head
 * and every bundle reached through `replaces`; the others are only skip targets.
 */
export interface ChannelMember {
  bundleName: string;
  /** On the head's replaces chain. */
  chainNode: boolean;
  /** Chain node: the bundle it replaces ('' at the tail). Skip-only: ''. */
  replaces: string;
  /** Chain node: the names it skips, in CSV order. Skip-only: []. */
  skips: string[];
  /** The bundle's olm.skipRange ('' when none or when the bundle is not loaded). */
  skipRange: string;
  /** The name is a loaded bundle (skip targets need not be). */
  loaded: boolean;
}

export interface Channel extends ManifestChannel {
  /** Distinct bundles of the channel graph, in order of their first entry. */
  members: ChannelMember[];
}

/**
 * A row of the replaces/skips graph of one channel. `id` is the entry's position in the
 * catalog-wide insertion order (1-based, like SQLite's rowid); `replaces` is the id of the
 * entry it replaces, or undefined at the tail.
 */
export interface ChannelEntry {
  id: number;
  channel: string;
  packageName: string;
  bundleName: string;
  depth: number;
  replaces?: number;
}

export interface Package {
  name: string;
  defaultChannel: string;
  channels: Channel[];
  entries: ChannelEntry[];
  /** The manifest file it came from. */
  path: string;
  /**
   * v1.26.5 (empty under v1.8.0): the olm.package property rows of this package's
   * transaction, one per (channel, chain node) visit, duplicates included; when this manifest
   * replaced an earlier one of the same name, that one's rows come first (upstream's delete
   * of the old package leaves them).
   */
  packageProperties: PackageProperty[];
}

/** A problem met while loading: never fatal to the catalog, as with upstream's permissive load. */
export interface Problem {
  /** What could not be loaded: a bundle name, a package name or a file path. */
  subject: string;
  kind: 'bundle' | 'package' | 'file';
  message: string;
}

export interface LoadedCatalog {
  /** The rules the catalog was loaded with. */
  rules: LoaderRules;
  bundles: Bundle[];
  packages: Package[];
  problems: Problem[];
  /**
   * Package directories left out before loading because a file in them went over a decoding
   * limit (one named warning each); upstream had no limits, so these are not `problems`.
   */
  dropped?: string[];
}
