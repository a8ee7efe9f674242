// The objects of a file-based catalog (FBC), shaped as operator-registry's declcfg types
// (v1.26.5): key order is the Go struct order and optional keys are absent rather than empty,
// so serialising an object with fbc-json gives the file bytes. Property values are kept as
// compact JSON text (RawJson), never re-parsed: a value read from a catalog keeps its exact
// escapes, as `opm migrate` keeps a DB value's `\u003c`.
import type { RawJson } from './go-json.js';

export const SCHEMA_PACKAGE = 'olm.package';
export const SCHEMA_CHANNEL = 'olm.channel';
export const SCHEMA_BUNDLE = 'olm.bundle';

export const PROPERTY_PACKAGE = 'olm.package';
export const PROPERTY_GVK = 'olm.gvk';
export const PROPERTY_GVK_REQUIRED = 'olm.gvk.required';
export const PROPERTY_PACKAGE_REQUIRED = 'olm.package.required';
export const PROPERTY_BUNDLE_OBJECT = 'olm.bundle.object';

export interface FbcIcon {
  /** Standard base64 with padding. */
  base64data: string;
  mediatype: string;
}

export interface FbcPackage {
  schema: typeof SCHEMA_PACKAGE;
  name: string;
  defaultChannel: string;
  icon?: FbcIcon;
  description?: string;
}

export interface FbcChannelEntry {
  name: string;
  replaces?: string;
  skips?: string[];
  skipRange?: string;
}

export interface FbcChannel {
  schema: typeof SCHEMA_CHANNEL;
  name: string;
  package: string;
  entries: FbcChannelEntry[];
}

export interface FbcProperty {
  type: string;
  /** Compact JSON text. */
  value: RawJson;
}

export interface FbcRelatedImage {
  name: string;
  image: string;
}

export interface FbcBundle {
  schema: typeof SCHEMA_BUNDLE;
  name: string;
  package: string;
  image: string;
  properties?: FbcProperty[];
  relatedImages?: FbcRelatedImage[];
}

/** Everything of one package: what `<package>/catalog.json` holds, in file order. */
export interface FbcPackageFile {
  package: FbcPackage;
  /** Sorted by name. */
  channels: FbcChannel[];
  /** Sorted by name. */
  bundles: FbcBundle[];
}

/** A whole catalog: one entry per package, sorted by package name. */
export interface FbcCatalog {
  packages: FbcPackageFile[];
}
