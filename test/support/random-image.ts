// Synthetic base images for tests, like go-containerregistry's random.Image: random layers
// (gzip'd tars holding one random file), a config with the usual fields plus an unknown one (to
// prove it is carried through), history with an empty_layer step, in the Docker or OCI family;
// and multi-arch indexes of such images. Everything stays in memory as exact bytes keyed by
// digest, so a test can push it anywhere (registry, OCI layout) and check digests end to end.
import { randomBytes } from 'node:crypto';
import { toRaw } from '../../lib/image/digest.js';
import { buildLayer } from '../../lib/image/layer.js';
import { FAMILY_TYPES, type Family } from '../../lib/image/media-types.js';
import type {
  ConfigFile,
  Descriptor,
  Image,
  ImageIndex,
  Manifest,
  Platform,
  Raw,
} from '../../lib/image/types.js';

export interface RandomImage {
  image: Image;
  /** Layer blobs (config excluded) by digest. */
  layers: Map<string, Uint8Array>;
}

export interface RandomIndex {
  index: Raw<ImageIndex>;
  images: { platform: Platform; image: Image; descriptor: Descriptor }[];
  layers: Map<string, Uint8Array>;
}

export interface RandomImageOptions {
  family?: Family;
  layers?: number;
  layerSize?: number;
  platform?: Platform;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  return Buffer.concat(chunks);
}

export async function randomImage(options: RandomImageOptions = {}): Promise<RandomImage> {
  const family = options.family ?? 'docker';
  const types = FAMILY_TYPES[family];
  const platform = options.platform ?? { os: 'linux', architecture: 'amd64' };
  const layers = new Map<string, Uint8Array>();
  const descriptors: Descriptor[] = [];
  const diffIds: string[] = [];
  for (let i = 0; i < (options.layers ?? 2); i++) {
    const data = randomBytes(options.layerSize ?? 1024);
    const layer = await buildLayer({ size: data.length, data }, { name: `random-${i}.bin` });
    const bytes = concat(layer.chunks);
    layers.set(layer.digest, bytes);
    descriptors.push({ mediaType: types.layer, digest: layer.digest, size: layer.size });
    diffIds.push(layer.diffId);
  }
  const config: ConfigFile = {
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: {
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      Entrypoint: ['/bin/registry-server'],
      Cmd: ['--database', '/bundles.db'],
      WorkingDir: '/registry',
      User: '1001',
      ExposedPorts: { '50051/tcp': {} },
      Labels: { 'test.random': randomBytes(4).toString('hex') },
    },
    created: '2020-06-01T00:00:00Z',
    'x-unknown-field': { kept: true },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: [
      ...diffIds.map((_, i) => ({ created: '2020-06-01T00:00:00Z', created_by: `layer ${i}` })),
      { created: '2020-06-01T00:00:00Z', created_by: 'CMD', empty_layer: true },
    ],
  };
  const configRaw = toRaw(config, types.config);
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: types.manifest,
    config: { mediaType: types.config, digest: configRaw.digest, size: configRaw.bytes.length },
    layers: descriptors,
  };
  return { image: { manifest: toRaw(manifest, types.manifest), config: configRaw }, layers };
}

export const MULTI_ARCH: Platform[] = [
  { os: 'linux', architecture: 'amd64' },
  { os: 'linux', architecture: 'arm64', variant: 'v8' },
  { os: 'linux', architecture: 'ppc64le' },
  { os: 'linux', architecture: 's390x' },
];

export async function randomIndex(
  options: { family?: Family; platforms?: Platform[]; layers?: number; layerSize?: number } = {},
): Promise<RandomIndex> {
  const family = options.family ?? 'docker';
  const types = FAMILY_TYPES[family];
  const layers = new Map<string, Uint8Array>();
  const images: RandomIndex['images'] = [];
  for (const platform of options.platforms ?? MULTI_ARCH) {
    const r = await randomImage({
      family,
      platform,
      layers: options.layers,
      layerSize: options.layerSize,
    });
    for (const [d, b] of r.layers) layers.set(d, b);
    const descriptor: Descriptor = {
      mediaType: r.image.manifest.mediaType,
      digest: r.image.manifest.digest,
      size: r.image.manifest.bytes.length,
      platform,
    };
    images.push({ platform, image: r.image, descriptor });
  }
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: types.index,
    manifests: images.map((i) => i.descriptor),
  };
  return { index: toRaw(index, types.index), images, layers };
}

/**
 * Pushes a random image (an application image: no bundle labels) to `host/repository:tag`
 * through our registry client, with the credentials of `authFile`; returns the image.
 */
export async function pushRandomImage(
  target: { host: string; repository: string; tag: string },
  authFile: string,
): Promise<RandomImage> {
  const { RegistryClient } = await import('../../lib/registry/registry-client.js');
  const { loadKeychain } = await import('../../lib/registry/keychain.js');
  const img = await randomImage();
  const client = new RegistryClient({ keychain: await loadKeychain({ authFile }), insecure: true });
  try {
    for (const [digest, blob] of [
      ...img.layers,
      [img.image.config.digest, img.image.config.bytes] as const,
    ])
      await client.pushBlob(
        target.host,
        target.repository,
        { digest, size: blob.length },
        { body: blob },
      );
    await client.putManifest(
      { registry: target.host, repository: target.repository, tag: target.tag },
      img.image.manifest.bytes,
      img.image.manifest.mediaType,
    );
  } finally {
    await client.close();
  }
  return img;
}
