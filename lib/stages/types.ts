// The contracts of the five stages (plus listing and reporting). A stage is a plain async
// function `(request, deps) => result`: requests and results are small JSON-serialisable
// objects that pass store keys and digests, never bytes, so the same objects travel between
// Step Functions states and between the CLI's in-process calls. Dependencies (store,
// credentials, logger, progress) are injected; no AWS event type appears here.
import type { AppRegistryClient } from '../appregistry/client.js';
import type { IndexFormat } from '../index/catalog-formats.js';
import type { RegistryDeps } from '../registry/open-client.js';
import type { BlobCounters } from '../registry/registry-client.js';
import type { Store } from '../store/store.js';

export type { BlobCounters };

/** Where the catalog comes from: an App Registry org, or a directory of manifests (offline). */
export interface AppRegistrySource {
  endpoint: string;
  org: string;
  /** Name of the secret holding the App Registry token (AWS); never the token itself. */
  authTokenSecret?: string;
  /** Refuse a listing of more packages than this (default DEFAULT_MAX_PACKAGES). */
  maxPackages?: number;
}

/** Caps on one package blob's tar: entries, bytes of one file, bytes of all files. */
export interface DecodeLimitsRequest {
  maxEntries?: number;
  maxFileBytes?: number;
  maxTotalBytes?: number;
}

/** Connect / response-headers / body-idle timeouts in ms (defaults: lib/http DEFAULT_TIMEOUTS). */
export interface TimeoutsRequest {
  connectMs?: number;
  headersMs?: number;
  bodyMs?: number;
}

/** A build as requested through `POST /builds`, `catalog-build pipeline` or the CLI flags. */
export interface BuildRequest {
  buildId: string;
  appRegistry?: AppRegistrySource;
  /** Local/offline builds only: a manifests directory (CLI `--manifest-dir` without an org). */
  manifestDir?: string;
  /** Bundle image references (`opm index add --bundles`), pulled from any v2 registry. */
  bundles?: string[];
  /**
   * Pipeline builds: a key prefix of the store (the deployment's bucket) holding bundle-format
   * folders (`<package>/<version>/manifests/…` + `metadata/annotations.yaml`).
   */
  bundlePrefix?: string;
  /** Base image reference, `scratch`, or `oci:<dir>[:tag]`. Absent: build the DB only. */
  from?: string;
  /** Destination reference (`host/repo:tag`, `oci:<dir>[:tag]`, `file://…`). Absent: no push. */
  to?: string;
  /** Unanchored regular expression on `os/arch[/variant]`; default `linux/amd64`. */
  filterByOs?: string;
  insecure?: boolean;
  /** Name of the secret holding a docker config.json for the registries (AWS). */
  registryAuthSecret?: string;
  maxPerRegistry?: number;
  /** Seconds since the epoch for layer mtimes and config `created` (reproducible builds). */
  sourceDateEpoch?: number;
  /** Caps for decoding App Registry blobs (defaults in lib/appregistry/decode.ts). */
  decodeLimits?: DecodeLimitsRequest;
  /**
   * What catalog to build: `sqlite-v7` (default: operator-registry v1.8.0's schema-7 DB, as
   * oc 4.5 wrote it), `sqlite` (v1.26.5's schema-13 DB) or `fbc` (a file-based catalog).
   */
  indexFormat?: IndexFormat;
  webhook?: { url: string; hmacSecret?: string };
  /** Timeouts of every HTTP request (CLI `--connect-timeout`/`--headers-timeout`/`--idle-timeout`). */
  timeouts?: TimeoutsRequest;
  /** Largest image manifest or config read, in bytes (CLI `--max-manifest-size`; default 4 MiB). */
  maxManifestBytes?: number;
}

/** One package of an App Registry org, as listed: repository name, default release, digest. */
export interface PackageRef {
  /** Repository name (the part after `<org>/`). */
  name: string;
  release: string;
  /** sha256 hex of the release blob, when the listing/show call told us. */
  digest?: string;
}

export interface ListPackagesRequest {
  buildId: string;
  appRegistry: AppRegistrySource;
}
export interface ListPackagesResult {
  buildId: string;
  packages: PackageRef[];
  /** Listed packages left out (invalid names), one named warning each. */
  warnings?: string[];
}

export interface FetchPackageRequest {
  buildId: string;
  appRegistry: AppRegistrySource;
  package: PackageRef;
}
export interface FetchedPackage {
  name: string;
  release: string;
  digest: string;
  /** Store key of the verified blob (`blobs/sha256/<hex>`). */
  key: string;
  size: number;
  /** False when the blob was already in the store (nothing downloaded). */
  downloaded: boolean;
  /** Non-fatal decoding problems found while checking the blob. */
  warnings?: string[];
}
export type FetchPackageResult = FetchedPackage;

/** One bundle image pulled by fetch-bundle: its layers are in the store, content-addressed. */
export interface FetchedBundle {
  /** The reference as given: it becomes the bundle's `image`. */
  ref: string;
  /** Digest of the image manifest read. */
  digest: string;
  /** The config labels (the bundle annotations). */
  labels: Record<string, string>;
  layers: { key: string; mediaType: string; size: number }[];
  /** Layers that had to be downloaded (the others were in the store already). */
  downloaded: number;
}

/** The bundles of a pipeline build, listed for its fan-out (list-bundles). */
export interface ListBundlesRequest {
  buildId: string;
  bundles: readonly string[];
}
export interface ListBundlesResult {
  buildId: string;
  count: number;
  /** The references as one JSON array in the store: the Distributed Map's ItemReader input. */
  itemsKey: string;
}

/** One iteration of the bundle fan-out: the bundle at `index` of the request's list. */
export interface FetchBundleRequest {
  buildId: string;
  index: number;
  ref: string;
  insecure?: boolean;
  maxPerRegistry?: number;
}
/** What became of one bundle: pulled into the store, or left out with the reason. */
export interface FetchBundleResult {
  index: number;
  ref: string;
  bundle?: FetchedBundle;
  error?: { name: string; message: string };
}

export interface BuildIndexRequest {
  buildId: string;
  /** Blobs fetched from an App Registry (decoded in memory, as oc unpacked them on disk). */
  packages?: FetchedPackage[];
  /** Or bundle images fetched by fetch-bundle. */
  bundles?: FetchedBundle[];
  /** With `bundles`: the bundles that could not be pulled (reported, left out). */
  unpulled?: { index: number; ref: string; error: { name: string; message: string } }[];
  /** Or a local manifests directory (offline CLI builds). */
  manifestDir?: string;
  /** Or a store key prefix of bundle-format (or package-manifest) folders. */
  bundlePrefix?: string;
  sourceDateEpoch?: number;
  decodeLimits?: DecodeLimitsRequest;
  /** Default `sqlite-v7`. */
  indexFormat?: IndexFormat;
}
/** Rows per table (SQLite formats) or objects per schema (FBC), as the writer reports them. */
export type IndexCounts = Record<string, number>;
/** One file of the built catalog in the store. */
export interface CatalogFileRef {
  /** Path relative to the build (`bundles.db`, `configs/<package>/catalog.json`). */
  path: string;
  key: string;
  digest: string;
  size: number;
}
export interface BuildIndexResult {
  buildId: string;
  indexFormat: IndexFormat;
  /** The SQLite database (SQLite formats): store key, digest, size. */
  dbKey: string;
  dbDigest: string;
  dbSize: number;
  /**
   * The files the catalog writer produced: how many, their bytes, and the store key of their
   * list (a JSON array of CatalogFileRef, in the order written). The list itself stays out of
   * the result: an FBC catalog has a file per package plus its serve cache, and the state
   * machine carries this result through later states (256 KB payload limit).
   */
  filesKey: string;
  fileCount: number;
  fileBytes: number;
  counts: IndexCounts;
  /** Packages, channels and bundles of the catalog, whatever its format. */
  totals: { packages: number; channels: number; bundles: number };
  warningsKey: string;
  warningCount: number;
  /** `--manifest-dir` builds: the manifest formats found (bundle-format and/or package manifests). */
  formats?: {
    bundleFolders: number;
    bundlePackages: number;
    packageManifestFiles: number;
  };
}

export interface AssembleImageRequest {
  buildId: string;
  dbKey: string;
  /** The built catalog's format (default `sqlite-v7`): which files make the layer, run settings. */
  indexFormat?: IndexFormat;
  from: string;
  filterByOs?: string;
  insecure?: boolean;
  registryAuthSecret?: string;
  /** Bounds the base pulls too (`--max-per-registry`). */
  maxPerRegistry?: number;
  sourceDateEpoch?: number;
  /** Root directory of `file://` base images (oc's `--from-dir`, else `--dir`); default cwd. */
  fromDir?: string;
}
export interface PlatformImage {
  platform: string;
  manifestDigest: string;
  configDigest: string;
  layerDigest: string;
}
export interface AssembleImageResult {
  buildId: string;
  /** Store key of the image plan (`builds/<id>/image.json`): manifests, index, blob sources. */
  imageKey: string;
  /** Digest the tag will point at (an index when several platforms were kept). */
  digest: string;
  mediaType: string;
  platforms: PlatformImage[];
}

export interface PushImageRequest {
  buildId: string;
  imageKey: string;
  to: string;
  insecure?: boolean;
  registryAuthSecret?: string;
  maxPerRegistry?: number;
  /** Root directory of a `file://` destination (oc's `--dir`); default cwd. */
  dir?: string;
}
export interface PushImageResult {
  buildId: string;
  ref: string;
  digest: string;
  blobs: BlobCounters;
}

/** The preflight stage (lib/stages/preflight.ts): what the end of the build will need. */
export interface PreflightRequest {
  buildId: string;
  from?: string;
  to?: string;
  filterByOs?: string;
  insecure?: boolean;
  maxPerRegistry?: number;
  /** Root directory of `file://` base images (the CLI's --from-dir, else --dir). */
  fromDir?: string;
}

export interface PreflightResult {
  buildId: string;
  /** What was checked and found, one line each (the stage record and the report show them). */
  checks: string[];
}

export type StageName =
  | 'preflight'
  | 'list-packages'
  | 'fetch-package'
  | 'list-bundles'
  | 'fetch-bundle'
  | 'build-index'
  | 'assemble-image'
  | 'push-image'
  | 'report';

export interface ReportRequest {
  buildId: string;
  outcome: 'succeeded' | 'failed';
  /** The failing stage and error, when outcome is failed (the state machine's Catch output). */
  failure?: { stage: StageName | string; name: string; message: string };
  webhook?: { url: string; hmacSecret?: string };
}
export interface ReportResult {
  buildId: string;
  outcome: 'succeeded' | 'failed';
  reportKey: string;
  reportMdKey: string;
}

/** What a stage prints about its progress; the CLI draws it, Lambda logs it. */
export type ProgressEvent =
  | {
      kind: 'download';
      package: string;
      bytes: number;
      total?: number;
      done: boolean;
      cached?: boolean;
    }
  | { kind: 'upload'; what: string; bytes: number; total?: number; done: boolean }
  | { kind: 'info'; message: string };

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Credentials resolved by the caller (CLI flags, or a handler reading Secrets Manager). */
export interface Credentials {
  appRegistryToken?: string;
  /** Parsed docker config.json / containers auth.json to use before the default keychain. */
  registryAuthFile?: string;
  registryAuthConfig?: unknown;
}

export interface StageDeps {
  store: Store;
  log: Logger;
  credentials?: Credentials;
  progress?: (event: ProgressEvent) => void;
  /** For reproducible timestamps in tests; defaults to the real clock. */
  now?: () => Date;
  /** Aborts long work (Lambda deadline, Ctrl-C). */
  signal?: AbortSignal;
  /**
   * The request's `timeouts` (`--connect-timeout`, `--headers-timeout`, `--idle-timeout`):
   * every registry, token and App Registry request of the stage uses them.
   */
  timeouts?: TimeoutsRequest;
  /** The request's `maxManifestBytes` (`--max-manifest-size`): cap on manifests and configs. */
  maxManifestBytes?: number;
}

/** Extra dependencies of the App Registry stages (all optional). */
export interface AppRegistryStageDeps extends StageDeps {
  /** A client to reuse (shared connections, tests); otherwise one is made from the request. */
  appRegistryClient?: AppRegistryClient;
  /** Packages handled at once (default: the client's request concurrency, 8). */
  concurrency?: number;
}

/** Extra dependencies of the image stages (all optional). */
export interface ImageStageDeps extends StageDeps, Omit<RegistryDeps, 'credentials'> {}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
