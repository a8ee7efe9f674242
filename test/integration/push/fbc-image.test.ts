// An FBC catalog image end to end: the fbc writer's files in the store, assembled on a base and
// pushed to a local docker-registry, then read back with skopeo. The image must carry the
// configs label, opm's Entrypoint/Cmd, /configs/<package>/catalog.json and the serve cache in
// /tmp/cache, and the cache must pass the integrity check `opm serve` makes at start-up. A
// second assembly of the same build gives the same digest and its push uploads nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../../lib/catalog/load-catalog.js';
import { type CatalogOutput, writeCatalog } from '../../../lib/index/catalog-writer.js';
import { FBC_CONFIGS_LABEL } from '../../../lib/index/fbc-image.js';
import { FbcCatalogWriter } from '../../../lib/index/write-fbc.js';
import { RegistryClient } from '../../../lib/registry/registry-client.js';
import { assembleImage } from '../../../lib/stages/assemble-image.js';
import { pushImage } from '../../../lib/stages/push-image.js';
import { silentLogger } from '../../../lib/stages/types.js';
import { LocalDirStore } from '../../../lib/store/local-dir-store.js';
import { readManifestDir } from '../../../lib/store/manifest-dir.js';
import { serveCacheCheck } from '../../support/fbc-image.js';
import { randomImage } from '../../support/random-image.js';
import { type RegistryServer, startRegistry } from '../../support/registry-server.js';
import { REPO_ROOT } from '../../support/shared-corpus.js';
import { inspectRaw, layerFiles, pullWithSkopeo } from '../../support/skopeo.js';

const EPOCH = 1_600_000_000;
let reg: RegistryServer;
let tmp: string;
let store: LocalDirStore;
let client: RegistryClient;
const deps = () => ({ store, log: silentLogger, registry: client });

/** The fbc writer over the repository's sample manifests, its files under builds/<id>/. */
async function buildFbc(buildId: string) {
  const output: CatalogOutput = {
    writeFile: async (p, data, contentType) => {
      await store.put(`builds/${buildId}/${p}`, data, { contentType });
    },
  };
  const files = await readManifestDir(path.join(REPO_ROOT, 'examples', 'manifests'));
  return writeCatalog(new FbcCatalogWriter(output), loadCatalog(files, { rules: 'v1.26.5' }));
}

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'fbc-image-'));
  store = new LocalDirStore(path.join(tmp, 'store'));
  reg = await startRegistry();
  client = new RegistryClient({ insecure: true });
  const base = await randomImage({ family: 'oci', layers: 2 });
  for (const [digest, bytes] of base.layers)
    await client.uploadBlob(reg.host, 'opm', digest, bytes.length, bytes);
  const { config, manifest } = base.image;
  await client.uploadBlob(reg.host, 'opm', config.digest, config.bytes.length, config.bytes);
  await client.putManifest(
    { registry: reg.host, repository: 'opm', tag: 'v1.26.5' },
    manifest.bytes,
    manifest.mediaType,
  );
});

afterAll(async () => {
  await client?.close();
  await reg?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('FBC catalog image', () => {
  it('is pushed with the configs label, opm Entrypoint/Cmd, /configs and a valid serve cache', async () => {
    const written = await buildFbc('fbc1');
    expect(written.totals.packages).toBeGreaterThan(0);
    const request = {
      buildId: 'fbc1',
      dbKey: '',
      indexFormat: 'fbc' as const,
      from: `${reg.host}/opm:v1.26.5`,
      insecure: true,
      sourceDateEpoch: EPOCH,
    };
    const assembled = await assembleImage(request, deps());
    const to = `${reg.host}/catalogs/fbc:v1`;
    const pushed = await pushImage(
      { buildId: 'fbc1', imageKey: assembled.imageKey, to, insecure: true },
      deps(),
    );
    expect(pushed.digest).toBe(assembled.digest);

    const { manifest, config, lastLayer } = pullWithSkopeo(to, tmp);
    expect(manifest.layers).toHaveLength(3);
    expect(config.config).toMatchObject({
      Labels: { [FBC_CONFIGS_LABEL]: '/configs' },
      Entrypoint: ['/bin/opm'],
      Cmd: ['serve', '/configs', '--cache-dir=/tmp/cache'],
    });
    const entries = await layerFiles(lastLayer);
    const byName = new Map(entries.map((e) => [e.name, e]));
    for (const f of written.files) {
      const inImage = f.path.startsWith('configs/')
        ? f.path
        : `tmp/cache/${f.path.slice('cache/'.length)}`;
      expect(byName.get(inImage)?.data.length, inImage).toBe(f.size);
    }
    expect(byName.get('tmp/cache/cache/packages.json')?.mode).toBe(0o640);
    const check = serveCacheCheck(entries);
    expect(check.computed).toBe(check.stored);

    // Reproducible: the same build assembles to the same digest; pushing it uploads nothing.
    const again = await assembleImage(request, deps());
    expect(again.digest).toBe(assembled.digest);
    const repushed = await pushImage(
      { buildId: 'fbc1', imageKey: again.imageKey, to, insecure: true },
      deps(),
    );
    expect(repushed.blobs.uploaded).toBe(0);
    expect(JSON.parse(inspectRaw(to)).config.digest).toBe(manifest.config.digest);
  });
});
