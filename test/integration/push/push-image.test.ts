import { randomBytes } from 'node:crypto';
import { lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaTypes } from '../../../lib/image/media-types.js';
import type { Image, ImageIndex, Manifest } from '../../../lib/image/types.js';
import { RegistryClient } from '../../../lib/registry/registry-client.js';
import { assembleImage } from '../../../lib/stages/assemble-image.js';
import { pushImage } from '../../../lib/stages/push-image.js';
import { silentLogger } from '../../../lib/stages/types.js';
import { blobKey, buildKeys } from '../../../lib/store/keys.js';
import { LocalDirStore } from '../../../lib/store/local-dir-store.js';
import {
  type RandomImage,
  type RandomIndex,
  randomImage,
  randomIndex,
} from '../../support/random-image.js';
import { type RegistryServer, startRegistry } from '../../support/registry-server.js';
import {
  inspectRaw,
  layerFiles,
  pullWithSkopeo as pullLayout,
  skopeo,
} from '../../support/skopeo.js';

const EPOCH = 1_600_000_000;
let reg: RegistryServer;
let tmp: string;
let store: LocalDirStore;
let client: RegistryClient;
const deps = () => ({ store, log: silentLogger, registry: client });

async function pushBase(repo: string, tag: string, base: RandomImage | RandomIndex): Promise<void> {
  const images: Image[] = 'image' in base ? [base.image] : base.images.map((i) => i.image);
  for (const [digest, bytes] of base.layers)
    await client.uploadBlob(reg.host, repo, digest, bytes.length, bytes);
  for (const img of images) {
    await client.uploadBlob(
      reg.host,
      repo,
      img.config.digest,
      img.config.bytes.length,
      img.config.bytes,
    );
    const ref = {
      registry: reg.host,
      repository: repo,
      ...('image' in base ? { tag } : { digest: img.manifest.digest }),
    };
    await client.putManifest(ref, img.manifest.bytes, img.manifest.mediaType);
  }
  if (!('image' in base)) {
    await client.putManifest(
      { registry: reg.host, repository: repo, tag },
      base.index.bytes,
      base.index.mediaType,
    );
  }
}

let buildSeq = 0;
/** A fresh build whose "DB" is `db` (any bytes do: the layer does not care what the file holds). */
async function build(db: Uint8Array, from: string, extra: { filterByOs?: string } = {}) {
  const buildId = `b${++buildSeq}`;
  const dbKey = buildKeys(buildId).db;
  await store.put(dbKey, db);
  const assembled = await assembleImage(
    { buildId, dbKey, from, insecure: true, sourceDateEpoch: EPOCH, ...extra },
    deps(),
  );
  return { buildId, assembled };
}

async function dbFromLayer(layerGz: Uint8Array): Promise<Buffer> {
  const files = await layerFiles(layerGz);
  expect(files.map((f) => [f.name, f.mode])).toEqual([['bundles.db', 0o644]]);
  return files[0]!.data;
}

/** skopeo copies the tag to an OCI layout; returns its manifest, config and the DB from the last layer. */
async function pullWithSkopeo(ref: string) {
  const { manifest, config, lastLayer } = pullLayout(ref, tmp);
  return { manifest, config, db: await dbFromLayer(lastLayer) };
}

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'push-it-'));
  store = new LocalDirStore(path.join(tmp, 'store'));
  reg = await startRegistry();
  client = new RegistryClient({ insecure: true });
});

afterAll(async () => {
  await client?.close();
  await reg?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('push to a registry', () => {
  const db = randomBytes(50_000);
  let base: RandomImage;
  let firstDigest: string;

  beforeAll(async () => {
    base = await randomImage({ family: 'docker', layers: 3 });
    await pushBase('base/docker', 'v1', base);
  });

  it('mounts the base layers from the same registry and uploads only the new layer and config', async () => {
    const { buildId, assembled } = await build(db, `${reg.host}/base/docker:v1`);
    const to = `${reg.host}/out/catalog:v1`;
    const pushed = await pushImage(
      { buildId, imageKey: assembled.imageKey, to, insecure: true },
      deps(),
    );
    expect(pushed.ref).toBe(to);
    expect(pushed.digest).toBe(assembled.digest);
    expect(pushed.blobs).toMatchObject({ uploaded: 2, mounted: 3, present: 0 });
    const layerSize = (await store.head(blobKey(assembled.platforms[0]!.layerDigest)))!.size;
    const configSize = (await store.head(blobKey(assembled.platforms[0]!.configDigest)))!.size;
    expect(pushed.blobs.bytesUploaded).toBe(layerSize + configSize);
    firstDigest = pushed.digest;

    // skopeo sees exactly our manifest under the tag.
    const raw = inspectRaw(to);
    expect(
      `sha256:${(await import('node:crypto')).createHash('sha256').update(raw).digest('hex')}`,
    ).toBe(pushed.digest);
    const { manifest, config, db: pulled } = await pullWithSkopeo(to);
    expect(manifest.layers.slice(0, 3).map((l) => l.digest)).toEqual(
      base.image.manifest.value.layers.map((l) => l.digest),
    );
    expect(manifest.layers).toHaveLength(4);
    expect(config.rootfs.diff_ids.slice(0, 3)).toEqual(base.image.config.value.rootfs.diff_ids);
    expect(config.rootfs.diff_ids).toHaveLength(4);
    expect(config.config).toEqual(base.image.config.value.config);
    expect(pulled.equals(db)).toBe(true);
    // The Docker family was kept.
    expect(JSON.parse(raw).mediaType).toBe(MediaTypes.dockerManifest);
  });

  it('a second identical build gives the same digest and uploads nothing', async () => {
    const { buildId, assembled } = await build(db, `${reg.host}/base/docker:v1`);
    expect(assembled.digest).toBe(firstDigest);
    const pushed = await pushImage(
      { buildId, imageKey: assembled.imageKey, to: `${reg.host}/out/catalog:v1`, insecure: true },
      deps(),
    );
    expect(pushed.digest).toBe(firstDigest);
    expect(pushed.blobs).toMatchObject({ uploaded: 0, mounted: 0, present: 5, bytesUploaded: 0 });
  });

  it('a failed push leaves the tag as it was', async () => {
    const to = `${reg.host}/out/catalog:v1`;
    const before = inspectRaw(to);
    const { buildId, assembled } = await build(randomBytes(50_000), `${reg.host}/base/docker:v1`);
    expect(assembled.digest).not.toBe(firstDigest);
    // The new layer vanishes from the store between assemble and push: its upload must fail.
    await store.delete(blobKey(assembled.platforms[0]!.layerDigest));
    await expect(
      pushImage({ buildId, imageKey: assembled.imageKey, to, insecure: true }, deps()),
    ).rejects.toThrow();
    expect(inspectRaw(to)).toBe(before);
  });

  it('OCI-family base: the new layer and config are OCI types', async () => {
    const oci = await randomImage({ family: 'oci', layers: 1 });
    await pushBase('base/oci', 'v1', oci);
    const { buildId, assembled } = await build(db, `${reg.host}/base/oci:v1`);
    const to = `${reg.host}/out/oci-catalog:v1`;
    await pushImage({ buildId, imageKey: assembled.imageKey, to, insecure: true }, deps());
    const raw = JSON.parse(inspectRaw(to)) as Manifest;
    expect(raw.mediaType).toBe(MediaTypes.ociManifest);
    expect(raw.config.mediaType).toBe(MediaTypes.ociConfig);
    expect(raw.layers.at(-1)!.mediaType).toBe(MediaTypes.ociLayerGzip);
    expect((await pullWithSkopeo(to)).db.equals(db)).toBe(true);
  });

  it('scratch base: an image holding only the DB', async () => {
    const { buildId, assembled } = await build(db, 'scratch');
    const to = `${reg.host}/out/scratch:v1`;
    const pushed = await pushImage(
      { buildId, imageKey: assembled.imageKey, to, insecure: true },
      deps(),
    );
    expect(pushed.blobs).toMatchObject({ uploaded: 2, mounted: 0 });
    const { manifest, config, db: pulled } = await pullWithSkopeo(to);
    expect(manifest.layers).toHaveLength(1);
    expect(config.os).toBe('linux');
    expect(config.architecture).toBe('amd64');
    expect(pulled.equals(db)).toBe(true);
  });
});

describe('multi-arch base', () => {
  const db = randomBytes(20_000);
  let idx: RandomIndex;
  beforeAll(async () => {
    idx = await randomIndex({ family: 'docker', layers: 1, layerSize: 512 });
    await pushBase('base/multi', 'v1', idx);
  });

  it('default filter: a single linux/amd64 image', async () => {
    const { buildId, assembled } = await build(db, `${reg.host}/base/multi:v1`);
    expect(assembled.platforms.map((p) => p.platform)).toEqual(['linux/amd64']);
    const to = `${reg.host}/out/multi:amd64`;
    await pushImage({ buildId, imageKey: assembled.imageKey, to, insecure: true }, deps());
    const raw = JSON.parse(inspectRaw(to)) as Manifest;
    expect(raw.mediaType).toBe(MediaTypes.dockerManifest);
    expect(raw.layers[0]!.digest).toBe(idx.images[0]!.image.manifest.value.layers[0]!.digest);
  });

  it("'linux/.*': a manifest list of four appended images", async () => {
    const { buildId, assembled } = await build(db, `${reg.host}/base/multi:v1`, {
      filterByOs: 'linux/.*',
    });
    expect(assembled.mediaType).toBe(MediaTypes.dockerManifestList);
    const to = `${reg.host}/out/multi-all:v1`;
    const pushed = await pushImage(
      { buildId, imageKey: assembled.imageKey, to, insecure: true },
      deps(),
    );
    // 4 base layers mounted; 1 shared DB layer + 4 configs uploaded.
    expect(pushed.blobs).toMatchObject({ uploaded: 5, mounted: 4, present: 0 });
    const list = JSON.parse(inspectRaw(to)) as ImageIndex;
    expect(list.mediaType).toBe(MediaTypes.dockerManifestList);
    expect(list.manifests.map((m) => `${m.platform!.os}/${m.platform!.architecture}`)).toEqual([
      'linux/amd64',
      'linux/arm64',
      'linux/ppc64le',
      'linux/s390x',
    ]);
    for (const [i, m] of list.manifests.entries()) {
      expect(m.digest).toBe(assembled.platforms[i]!.manifestDigest);
      const child = JSON.parse(inspectRaw(`${reg.host}/out/multi-all@${m.digest}`)) as Manifest;
      expect(child.layers).toHaveLength(2);
      expect(child.layers[0]!.digest).toBe(idx.images[i]!.image.manifest.value.layers[0]!.digest);
    }
  });

  it('a filter that matches nothing fails before anything is written', async () => {
    await expect(
      build(db, `${reg.host}/base/multi:v1`, { filterByOs: 'windows/.*' }),
    ).rejects.toThrow(/filtered all images from manifest list/);
  });
});

describe('directory destinations and sources', () => {
  const db = randomBytes(30_000);

  it('oci: destination, then that layout as the base of another build (stream-copied to the registry)', async () => {
    const first = await build(db, 'scratch');
    const dir = path.join(tmp, 'layout');
    const pushed = await pushImage(
      { buildId: first.buildId, imageKey: first.assembled.imageKey, to: `oci:${dir}:cat` },
      deps(),
    );
    expect(pushed.blobs).toMatchObject({ uploaded: 2, present: 0 });
    const inspected = JSON.parse(skopeo('inspect', `oci:${dir}:cat`)) as {
      Digest: string;
      Layers: string[];
    };
    expect(inspected.Digest).toBe(first.assembled.digest);
    // Pushing again is a no-op for blobs.
    const again = await pushImage(
      { buildId: first.buildId, imageKey: first.assembled.imageKey, to: `oci:${dir}:cat` },
      deps(),
    );
    expect(again.blobs).toMatchObject({ uploaded: 0, present: 2 });

    const second = await build(randomBytes(1000), `oci:${dir}:cat`);
    const to = `${reg.host}/out/from-oci:v1`;
    const p2 = await pushImage(
      { buildId: second.buildId, imageKey: second.assembled.imageKey, to, insecure: true },
      deps(),
    );
    // The layout's layer is copied (no mount across a directory), plus new layer and config.
    expect(p2.blobs).toMatchObject({ uploaded: 3, mounted: 0 });
    const { manifest } = await pullWithSkopeo(to);
    expect(manifest.layers[0]!.digest).toBe(first.assembled.platforms[0]!.layerDigest);
  });

  it('file:// destination in oc layout under --dir', async () => {
    const { buildId, assembled } = await build(db, `${reg.host}/base/docker:v1`);
    const dir = path.join(tmp, 'mirror');
    const pushed = await pushImage(
      {
        buildId,
        imageKey: assembled.imageKey,
        to: 'file://offline/redhat-operators:4.3',
        dir,
        insecure: true,
      },
      deps(),
    );
    expect(pushed.ref).toBe('file://offline/redhat-operators:4.3');
    const repo = path.join(dir, 'v2', 'offline', 'redhat-operators');
    const tagLink = path.join(repo, 'manifests', '4.3');
    expect(lstatSync(tagLink).isSymbolicLink()).toBe(true);
    expect(readlinkSync(tagLink)).toBe(assembled.digest);
    const byDigest = statSync(path.join(repo, 'manifests', assembled.digest));
    expect(byDigest.ino).toBe(statSync(path.join(repo, 'blobs', assembled.digest)).ino);
    const manifest = JSON.parse(readFileSync(tagLink, 'utf8')) as Manifest;
    for (const d of [manifest.config, ...manifest.layers]) {
      expect(statSync(path.join(repo, 'blobs', d.digest)).size).toBe(d.size);
    }
    expect(
      await dbFromLayer(readFileSync(path.join(repo, 'blobs', manifest.layers.at(-1)!.digest))),
    ).toEqual(db);
    // And it reads back as a base.
    const again = await assembleImage(
      {
        buildId: 'fromfile',
        dbKey: buildKeys(buildId).db,
        from: 'file://offline/redhat-operators:4.3',
        fromDir: dir,
        sourceDateEpoch: EPOCH,
      },
      deps(),
    );
    expect(again.platforms[0]!.platform).toBe('linux/amd64');
  });

  it('refuses hostile destination paths', async () => {
    const { buildId, assembled } = await build(db, 'scratch');
    await expect(
      pushImage(
        {
          buildId,
          imageKey: assembled.imageKey,
          to: 'file://../../etc/x:1',
          dir: path.join(tmp, 'm2'),
        },
        deps(),
      ),
    ).rejects.toThrow(/InvalidReference|parsing/);
  });
});

describe('credentials and progress', () => {
  let secured: RegistryServer;
  beforeAll(async () => {
    secured = await startRegistry({ auth: 'htpasswd' });
  });
  afterAll(async () => {
    await secured?.stop();
  });

  it('pushes to an htpasswd registry with the -a auth file, reporting upload progress', async () => {
    const db = randomBytes(10_000);
    const { buildId, assembled } = await build(db, 'scratch');
    const events: { kind: string; done?: boolean }[] = [];
    const to = `${secured.host}/secured/cat:v1`;
    const noAuth = { store, log: silentLogger };
    await expect(
      pushImage({ buildId, imageKey: assembled.imageKey, to, insecure: true }, noAuth),
    ).rejects.toThrow(/401|unauthorized|authentication/i);
    const pushed = await pushImage(
      { buildId, imageKey: assembled.imageKey, to, insecure: true },
      {
        ...noAuth,
        credentials: { registryAuthFile: secured.authFile() },
        progress: (e) => events.push(e),
      },
    );
    expect(pushed.digest).toBe(assembled.digest);
    expect(events.some((e) => e.kind === 'upload' && e.done)).toBe(true);
    const raw = skopeo(
      'inspect',
      '--raw',
      '--tls-verify=false',
      '--creds',
      `${secured.username}:${secured.password}`,
      `docker://${to}`,
    );
    expect(JSON.parse(raw).layers).toHaveLength(1);
  });
});
