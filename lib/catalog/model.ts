// The catalog domain, as operator-registry names it, independent of any storage: a loaded
// catalog is the set of Bundles that were accepted, the Packages whose channel graph was
// accepted (with their ChannelEntries), and every Problem met on the way. The SQLite writer
// (lib/index) turns this into rows without taking any decision of its own, and another
// output (a file-based catalog) could be written from the same value.
import type { JsonObject } from './yaml-document.js';

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
}

export interface Channel {
  name: string;
  /** The channel head: the currentCSV of the package manifest. */
  head: string;
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
}

/** A problem met while loading: never fatal to the catalog, as with upstream's permissive load. */
export interface Problem {
  /** What could not be loaded: a bundle name, a package name or a file path. */
  subject: string;
  kind: 'bundle' | 'package' | 'file';
  message: string;
}

export interface LoadedCatalog {
  bundles: Bundle[];
  packages: Package[];
  problems: Problem[];
}
