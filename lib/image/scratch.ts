// `--from scratch`: an image that holds only the DB layer, for air-gapped demos and artifact use.
// It is an OCI-family image with an empty rootfs, so appending our layer goes through the same
// appendLayer path as a real base (one code path for config/manifest digests).
import { toRaw } from './digest.js';
import { MediaTypes } from './media-types.js';
import type { ConfigFile, Image, Manifest, Platform } from './types.js';

export function scratchImage(platform: Platform): Image {
  const config: ConfigFile = {
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: {},
    rootfs: { type: 'layers', diff_ids: [] },
    history: [],
  };
  const configRaw = toRaw(config, MediaTypes.ociConfig);
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: MediaTypes.ociManifest,
    config: {
      mediaType: MediaTypes.ociConfig,
      digest: configRaw.digest,
      size: configRaw.bytes.length,
    },
    layers: [],
  };
  return { manifest: toRaw(manifest, MediaTypes.ociManifest), config: configRaw };
}
