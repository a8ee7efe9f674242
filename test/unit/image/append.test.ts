// append-layer: diff_ids, config and manifest digests agree; the base is otherwise kept; media
// types follow the base's family; several platforms give a new index in the base's family.
import { describe, expect, it } from 'vitest';
import { appendLayer, DEFAULT_CREATED_BY, formatCreated } from '../../../lib/image/append.js';
import { assembleImages } from '../../../lib/image/assemble.js';
import { sha256Digest, toRaw } from '../../../lib/image/digest.js';
import { MalformedImageError } from '../../../lib/image/errors.js';
import { buildLayer } from '../../../lib/image/layer.js';
import {
  detectManifestType,
  familyOf,
  MediaTypes,
  UnsupportedMediaTypeError,
} from '../../../lib/image/media-types.js';
import { compilePlatformFilter, selectPlatforms } from '../../../lib/image/platform.js';
import { scratchImage } from '../../../lib/image/scratch.js';
import type { ConfigFile, Image, Manifest } from '../../../lib/image/types.js';
import { MULTI_ARCH, randomImage, randomIndex } from '../../support/random-image.js';

const decode = (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b));

async function dbLayer() {
  const data = Buffer.from('SQLite format 3\0 pretend');
  return buildLayer({ size: data.length, data });
}

/** Checks every cross-reference of an image, like ggcr's validate.Image. */
function validate(image: Image) {
  expect(image.manifest.digest).toBe(sha256Digest(image.manifest.bytes));
  expect(image.config.digest).toBe(sha256Digest(image.config.bytes));
  const m = decode(image.manifest.bytes) as Manifest;
  const c = decode(image.config.bytes) as ConfigFile;
  expect(m.config.digest).toBe(image.config.digest);
  expect(m.config.size).toBe(image.config.bytes.length);
  expect(c.rootfs.diff_ids).toHaveLength(m.layers.length);
  expect(c.history?.filter((h) => !h.empty_layer)).toHaveLength(m.layers.length);
}

describe('appendLayer', () => {
  const created = formatCreated(0);

  it('sets Entrypoint and Cmd and merges Labels over the base when asked (FBC images)', async () => {
    const base = await randomImage({ family: 'oci' });
    const baseConfig = base.image.config.value.config ?? {};
    const withLabel = toRaw(
      { ...base.image.config.value, config: { ...baseConfig, Labels: { keep: 'me', x: 'base' } } },
      base.image.config.mediaType,
    );
    const manifest = toRaw(
      {
        ...base.image.manifest.value,
        config: {
          ...base.image.manifest.value.config,
          digest: withLabel.digest,
          size: withLabel.bytes.length,
        },
      },
      base.image.manifest.mediaType,
    );
    const out = appendLayer({ manifest, config: withLabel }, await dbLayer(), {
      created,
      runConfig: { labels: { x: 'ours' }, entrypoint: ['/bin/opm'], cmd: ['serve', '/configs'] },
    });
    validate(out);
    const c = decode(out.config.bytes) as ConfigFile;
    expect(c.config).toMatchObject({
      Entrypoint: ['/bin/opm'],
      Cmd: ['serve', '/configs'],
      Labels: { keep: 'me', x: 'ours' },
    });
    const plain = decode(appendLayer(base.image, await dbLayer(), { created }).config.bytes);
    expect(plain.config).toEqual(base.image.config.value.config);
  });

  it.each(['docker', 'oci'] as const)(
    '%s base: new layer and config follow the family, digests agree',
    async (family) => {
      const base = await randomImage({ family });
      const layer = await dbLayer();
      const out = appendLayer(base.image, layer, { created });
      validate(out);
      const m = decode(out.manifest.bytes) as Manifest;
      const c = decode(out.config.bytes) as ConfigFile;
      const expected =
        family === 'docker'
          ? [MediaTypes.dockerManifest, MediaTypes.dockerConfig, MediaTypes.dockerLayerGzip]
          : [MediaTypes.ociManifest, MediaTypes.ociConfig, MediaTypes.ociLayerGzip];
      expect([out.manifest.mediaType, m.config.mediaType, m.layers.at(-1)!.mediaType]).toEqual(
        expected,
      );
      expect(m.mediaType).toBe(expected[0]);
      expect(out.config.mediaType).toBe(expected[1]);
      // The base's layers are kept as they were; ours comes last with the compressed digest/size.
      expect(m.layers.slice(0, -1)).toEqual(base.image.manifest.value.layers);
      expect(m.layers.at(-1)).toEqual({
        mediaType: expected[2],
        digest: layer.digest,
        size: layer.size,
      });
      // The config gets the uncompressed digest, one history entry and `created`.
      expect(c.rootfs.diff_ids).toEqual([...base.image.config.value.rootfs.diff_ids, layer.diffId]);
      expect(c.history).toHaveLength(base.image.config.value.history!.length + 1);
      expect(c.history!.at(-1)).toEqual({
        created: '1970-01-01T00:00:00Z',
        created_by: DEFAULT_CREATED_BY,
      });
      expect(c.created).toBe('1970-01-01T00:00:00Z');
    },
  );

  it('keeps everything else of the base config, unknown fields and key order included', async () => {
    const base = await randomImage();
    const out = appendLayer(base.image, await dbLayer(), { created });
    const before = decode(base.image.config.bytes) as Record<string, unknown>;
    const after = decode(out.config.bytes) as Record<string, unknown>;
    expect(Object.keys(after)).toEqual(Object.keys(before));
    for (const k of Object.keys(before)) {
      if (!['created', 'rootfs', 'history'].includes(k)) expect(after[k]).toEqual(before[k]);
    }
    expect(after['x-unknown-field']).toEqual({ kept: true });
    // The base objects are not modified.
    expect(decode(base.image.config.bytes)).toEqual(base.image.config.value);
  });

  it('is deterministic: same base, layer and created → same digests; another created → another config', async () => {
    const base = await randomImage();
    const layer = await dbLayer();
    const a = appendLayer(base.image, layer, { created });
    const b = appendLayer(base.image, layer, { created });
    const c = appendLayer(base.image, layer, { created: formatCreated(1) });
    expect(b.manifest.digest).toBe(a.manifest.digest);
    expect(c.config.digest).not.toBe(a.config.digest);
    expect(c.manifest.digest).not.toBe(a.manifest.digest);
  });

  it('pads a base history that is shorter than its layers, so history lines up with layers', async () => {
    const base = await randomImage({ layers: 3 });
    const config = { ...base.image.config.value, history: undefined } as ConfigFile;
    delete config.history;
    const image = { ...base.image, config: toRaw(config, base.image.config.mediaType) };
    const out = appendLayer(image, await dbLayer(), { created, comment: 'hello' });
    validate(out);
    const c = decode(out.config.bytes) as ConfigFile;
    expect(c.history).toHaveLength(4);
    expect(c.history!.at(-1)!.comment).toBe('hello');
  });

  it('refuses a base whose config and manifest disagree', async () => {
    const base = await randomImage({ layers: 2 });
    const config = structuredClone(base.image.config.value);
    config.rootfs.diff_ids.pop();
    const image = { ...base.image, config: toRaw(config, base.image.config.mediaType) };
    expect(() =>
      appendLayer(image, { digest: 'sha256:x', size: 1, diffId: 'sha256:y' }, { created }),
    ).toThrow(MalformedImageError);
  });

  it('formats created like Go (no fraction for whole seconds)', () => {
    expect(formatCreated(1_600_000_000)).toBe('2020-09-13T12:26:40Z');
  });
});

describe('media types', () => {
  it('families', () => {
    expect(familyOf(MediaTypes.dockerManifestList)).toBe('docker');
    expect(familyOf(MediaTypes.ociIndex)).toBe('oci');
    expect(() => familyOf(MediaTypes.dockerSchema1Signed)).toThrow(/schema 1/);
    expect(() => familyOf('application/vnd.example+json')).toThrow(UnsupportedMediaTypeError);
  });

  it('detects the type from the document, the reported type, or the shape', () => {
    expect(detectManifestType({ mediaType: MediaTypes.dockerManifest })).toBe(
      MediaTypes.dockerManifest,
    );
    expect(detectManifestType({}, `${MediaTypes.ociIndex}; charset=utf-8`)).toBe(
      MediaTypes.ociIndex,
    );
    expect(detectManifestType({ manifests: [] }, 'application/json')).toBe(MediaTypes.ociIndex);
    expect(detectManifestType({ config: {}, layers: [] })).toBe(MediaTypes.ociManifest);
    expect(() => detectManifestType({ foo: 1 })).toThrow(UnsupportedMediaTypeError);
  });
});

describe('platform filter and multi-arch assembly', () => {
  it('default keeps linux/amd64 only; linux/.* keeps all four; arm64 matches with its variant', async () => {
    const idx = await randomIndex({ layers: 1, layerSize: 64 });
    const plat = (re?: string) =>
      selectPlatforms(idx.index.value, compilePlatformFilter(re)).map(
        (d) => d.platform!.architecture,
      );
    expect(plat()).toEqual(['amd64']);
    expect(plat('linux/.*')).toEqual(['amd64', 'arm64', 'ppc64le', 's390x']);
    expect(plat('arm64/v8$')).toEqual(['arm64']);
    expect(plat('^linux/(ppc64le|s390x)$')).toEqual(['ppc64le', 's390x']);
  });

  it('zero matches and invalid expressions are clear usage errors', async () => {
    const idx = await randomIndex({ layers: 1, layerSize: 64 });
    expect(() => selectPlatforms(idx.index.value, compilePlatformFilter('windows/.*'))).toThrow(
      /filtered all images from manifest list \(it has linux\/amd64, linux\/arm64\/v8, linux\/ppc64le, linux\/s390x\)/,
    );
    try {
      compilePlatformFilter('linux/(');
      expect.unreachable();
    } catch (err) {
      expect((err as Error).name).toBe('PlatformFilterError');
      expect((err as Error).message).toMatch(
        /^parsing --filter-by-os: not a valid regular expression/,
      );
    }
  });

  it.each(['docker', 'oci'] as const)(
    '%s index: several platforms give a new index of the same family',
    async (family) => {
      const idx = await randomIndex({ family, layers: 1, layerSize: 64 });
      const layer = await dbLayer();
      const selected = selectPlatforms(idx.index.value, compilePlatformFilter('linux/.*'));
      const bases = selected.map((d) => ({
        descriptor: d,
        image: idx.images.find((i) => i.descriptor.digest === d.digest)!.image,
      }));
      const out = assembleImages(idx.index, bases, layer, { created: formatCreated(0) });
      expect(out.platforms.map((p) => p.platform)).toEqual([
        'linux/amd64',
        'linux/arm64/v8',
        'linux/ppc64le',
        'linux/s390x',
      ]);
      expect(out.index).toBeDefined();
      expect(out.index!.mediaType).toBe(idx.index.mediaType);
      expect(out.top.digest).toBe(sha256Digest(out.index!.bytes));
      const doc = decode(out.index!.bytes);
      expect(doc.mediaType).toBe(idx.index.mediaType);
      expect(doc.manifests).toHaveLength(4);
      for (const [i, p] of out.platforms.entries()) {
        validate(p.image);
        expect(doc.manifests[i]).toEqual({
          mediaType: p.image.manifest.mediaType,
          digest: p.image.manifest.digest,
          size: p.image.manifest.bytes.length,
          platform: MULTI_ARCH[i],
        });
      }
    },
  );

  it('one selected platform gives a single manifest, as oc did', async () => {
    const idx = await randomIndex({ layers: 1, layerSize: 64 });
    const [d] = selectPlatforms(idx.index.value, compilePlatformFilter(undefined));
    const out = assembleImages(
      idx.index,
      [{ descriptor: d!, image: idx.images[0]!.image }],
      await dbLayer(),
      {
        created: formatCreated(0),
      },
    );
    expect(out.index).toBeUndefined();
    expect(out.top.digest).toBe(out.platforms[0]!.image.manifest.digest);
    expect(out.top.mediaType).toBe(MediaTypes.dockerManifest);
  });

  it('scratch: an OCI image holding only the DB layer', async () => {
    const layer = await dbLayer();
    const out = appendLayer(scratchImage({ os: 'linux', architecture: 'arm64' }), layer, {
      created: formatCreated(0),
    });
    validate(out);
    const m = decode(out.manifest.bytes) as Manifest;
    const c = decode(out.config.bytes) as ConfigFile;
    expect(m.mediaType).toBe(MediaTypes.ociManifest);
    expect(m.layers).toEqual([
      { mediaType: MediaTypes.ociLayerGzip, digest: layer.digest, size: layer.size },
    ]);
    expect(c.architecture).toBe('arm64');
    expect(c.rootfs.diff_ids).toEqual([layer.diffId]);
  });
});
