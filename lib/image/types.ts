// The image model shared by assembly, the registry client and the layout adapters, named as the
// OCI image spec names things. Index signatures keep fields we do not model: a base manifest's
// or config's unknown fields are carried through unchanged, never dropped.

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
  [field: string]: unknown;
}

export interface Descriptor {
  mediaType: string;
  /** `sha256:<hex>`. */
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: Platform;
  [field: string]: unknown;
}

export interface Manifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
  [field: string]: unknown;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
  [field: string]: unknown;
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface ConfigFile {
  architecture?: string;
  os?: string;
  variant?: string;
  created?: string;
  rootfs: { type: string; diff_ids: string[] };
  history?: HistoryEntry[];
  config?: Record<string, unknown>;
  [field: string]: unknown;
}

/** A document and the exact bytes it was (or will be) stored as; the digest is of those bytes. */
export interface Raw<T> {
  value: T;
  bytes: Uint8Array;
  digest: string;
  mediaType: string;
}

/** One platform's image: its manifest and config, as read from a base or produced by append. */
export interface Image {
  manifest: Raw<Manifest>;
  config: Raw<ConfigFile>;
}
