// The store's key layout (DESIGN §3), in one place so S3 and the local directory agree.
// Content-addressed blobs are shared by every build; everything else lives under its build.

const HEX64 = /^[a-f0-9]{64}$/;

/** "sha256:<hex>" or "<hex>" → "blobs/sha256/<hex>". */
export function blobKey(digest: string): string {
  const hex = digest.startsWith('sha256:') ? digest.slice(7) : digest;
  if (!HEX64.test(hex)) throw new TypeError(`not a sha256 digest: ${digest}`);
  return `blobs/sha256/${hex}`;
}

export const buildKeys = (buildId: string) => {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(buildId))
    throw new TypeError(`not a build id: ${buildId}`);
  const base = `builds/${buildId}`;
  return {
    request: `${base}/request.json`,
    packages: `${base}/packages.json`,
    /** The listed package names as one JSON array: the Distributed Map's ItemReader input. */
    packageNames: `${base}/package-names.json`,
    /** The request's bundle references as one JSON array: the bundle Distributed Map's input. */
    bundleRefs: `${base}/bundle-refs.json`,
    db: `${base}/bundles.db`,
    /** A file of the built catalog by its path relative to the build (`bundles.db` is `db`). */
    catalogFile: (relative: string) => `${base}/${relative}`,
    /** The built catalog's file list (CatalogFileRef[]): kept out of the stage result. */
    catalogFiles: `${base}/catalog-files.json`,
    warnings: `${base}/warnings.json`,
    image: `${base}/image.json`,
    /**
     * The image layer while it streams in, before its digest names it (then blobs/sha256/…):
     * one key per attempt, so a retry overlapping a slow first attempt never moves or deletes
     * the other's object. `layerUploads` is the prefix they all share.
     */
    layerUpload: (attempt: string) => `${base}/uploads/layer-${attempt}.tar.gz`,
    layerUploads: `${base}/uploads/`,
    reportJson: `${base}/report.json`,
    reportMd: `${base}/report.md`,
    /** Per-stage results the report stage gathers (small JSON). */
    stage: (stage: string) => `${base}/stages/${stage}.json`,
  };
};

/** Last seen releases and digests of an org, for the upstream watcher. */
export function snapshotKey(endpoint: string, org: string): string {
  const host = new URL(endpoint).host.replace(/[^A-Za-z0-9.-]/g, '_');
  return `upstream/${host}/${org}/snapshot.json`;
}
