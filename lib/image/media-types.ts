// The manifest, index, config and layer media types of the two families registries speak:
// Docker Image Manifest V2 Schema 2 and the OCI image spec. A family is chosen by the base image
// and never mixed: the layer and config we add follow the base manifest's family, and a new
// index follows the base list's family (some registries and runtimes reject mixed images).
import { UsageError } from '../errors.js';

export const MediaTypes = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerForeignLayerGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayout: 'application/vnd.oci.layout.header.v1+json',
} as const;

export type Family = 'docker' | 'oci';

export interface FamilyTypes {
  manifest: string;
  index: string;
  config: string;
  layer: string;
}

export const FAMILY_TYPES: Readonly<Record<Family, FamilyTypes>> = {
  docker: {
    manifest: MediaTypes.dockerManifest,
    index: MediaTypes.dockerManifestList,
    config: MediaTypes.dockerConfig,
    layer: MediaTypes.dockerLayerGzip,
  },
  oci: {
    manifest: MediaTypes.ociManifest,
    index: MediaTypes.ociIndex,
    config: MediaTypes.ociConfig,
    layer: MediaTypes.ociLayerGzip,
  },
};

/**
 * Every manifest type we can read, for the `Accept` header of a manifest GET. Listing them all
 * matters: a registry that is not told about schema 2 converts to schema 1 and the digest changes.
 */
export const MANIFEST_ACCEPT: readonly string[] = [
  MediaTypes.ociIndex,
  MediaTypes.dockerManifestList,
  MediaTypes.ociManifest,
  MediaTypes.dockerManifest,
];

/** A manifest or index we cannot build on (schema 1, artifacts, unknown types). */
export class UnsupportedMediaTypeError extends UsageError {
  override name = 'UnsupportedMediaTypeError';
}

export function isIndexType(mediaType: string): boolean {
  return mediaType === MediaTypes.ociIndex || mediaType === MediaTypes.dockerManifestList;
}

export function isManifestType(mediaType: string): boolean {
  return mediaType === MediaTypes.ociManifest || mediaType === MediaTypes.dockerManifest;
}

/** The family of a manifest or index media type; throws for anything else (schema 1 included). */
export function familyOf(mediaType: string): Family {
  switch (mediaType) {
    case MediaTypes.dockerManifest:
    case MediaTypes.dockerManifestList:
      return 'docker';
    case MediaTypes.ociManifest:
    case MediaTypes.ociIndex:
      return 'oci';
    case MediaTypes.dockerSchema1:
    case MediaTypes.dockerSchema1Signed:
      throw new UnsupportedMediaTypeError(
        `reading base manifest: Docker schema 1 (${mediaType}) is not supported; push the base as schema 2 or OCI`,
      );
    default:
      throw new UnsupportedMediaTypeError(
        `reading base manifest: unknown manifest media type ${JSON.stringify(mediaType)}`,
      );
  }
}

/**
 * The media type of a manifest document: its own `mediaType` field, else the type the registry
 * (or OCI layout descriptor) reported, else inferred from its shape (OCI lets `mediaType` be absent).
 */
export function detectManifestType(doc: unknown, reported?: string): string {
  const own = (doc as { mediaType?: unknown } | null)?.mediaType;
  if (typeof own === 'string' && own !== '') return own;
  const r = reported?.split(';')[0]?.trim();
  if (r && r !== 'application/json' && r !== 'application/octet-stream') return r;
  if (doc && typeof doc === 'object') {
    if (Array.isArray((doc as { manifests?: unknown }).manifests)) return MediaTypes.ociIndex;
    if (
      (doc as { config?: unknown }).config &&
      Array.isArray((doc as { layers?: unknown }).layers)
    ) {
      return MediaTypes.ociManifest;
    }
  }
  throw new UnsupportedMediaTypeError('reading base manifest: cannot tell its media type');
}
