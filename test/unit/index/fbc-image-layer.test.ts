// The FBC image layer: /configs and /tmp/cache with the modes opm writes, reproducible, and
// passing opm serve's start-up integrity check when read back; a catalog.json changed after
// the cache was built fails that check (so the test can fail).
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../../lib/catalog/load-catalog.js';
import { buildTreeLayer } from '../../../lib/image/layer.js';
import { fbcImageEntries } from '../../../lib/index/fbc-image.js';
import { fbcOutputFiles, writeFbc } from '../../../lib/index/write-fbc.js';
import { serveCacheCheck } from '../../support/fbc-image.js';
import { layerFiles } from '../../support/skopeo.js';
import { csv, fileTree, pkg } from '../catalog/manifest-builders.js';

function sample() {
  return writeFbc(
    loadCatalog(
      fileTree({
        'etcd/etcd.package.yaml': pkg('etcd', { alpha: 'etcd.v0.2.0' }),
        'etcd/0.1.0/etcd.v0.1.0.clusterserviceversion.yaml': csv('etcd.v0.1.0', {
          version: '0.1.0',
        }),
        'etcd/0.2.0/etcd.v0.2.0.clusterserviceversion.yaml': csv('etcd.v0.2.0', {
          version: '0.2.0',
          replaces: 'etcd.v0.1.0',
        }),
      }),
      { rules: 'v1.26.5' },
    ),
  );
}

function entriesOf(fbc: ReturnType<typeof sample>) {
  return fbcImageEntries(fbcOutputFiles(fbc)).map((e) => ({
    path: e.path,
    mode: e.mode,
    ...(e.data ? { data: { size: e.data.length, data: e.data } } : {}),
  }));
}

describe('FBC image layer', () => {
  it('holds /configs and /tmp/cache with opm modes and passes the serve integrity check', async () => {
    const fbc = sample();
    expect(fbc.counts).toEqual({ packages: 1, channels: 1, bundles: 2 });
    const layer = await buildTreeLayer(entriesOf(fbc), { mtime: 0 });
    const entries = await layerFiles(Buffer.concat(layer.chunks));
    const modes = Object.fromEntries(entries.map((e) => [e.name, (e.mode ?? 0) & 0o7777]));
    expect(modes).toMatchObject({
      configs: 0o755,
      'configs/etcd': 0o755,
      'configs/etcd/catalog.json': 0o644,
      tmp: 0o1777,
      'tmp/cache': 0o750,
      'tmp/cache/digest': 0o640,
      'tmp/cache/cache': 0o750,
      'tmp/cache/cache/packages.json': 0o640,
      'tmp/cache/cache/etcd_alpha_etcd.v0.2.0.json': 0o640,
    });
    for (const e of entries) expect([e.uid, e.gid]).toEqual([0, 0]);
    const check = serveCacheCheck(entries);
    expect(check.stored).toMatch(/^[0-9a-f]{16}$/);
    expect(check.computed).toBe(check.stored);
    const again = await buildTreeLayer(entriesOf(sample()), { mtime: 0 });
    expect(again.digest).toBe(layer.digest);
  });

  it('fails the check when a catalog.json no longer matches the cache', async () => {
    const fbc = sample();
    const entries = entriesOf(fbc);
    const file = entries.find((e) => e.path === 'configs/etcd/catalog.json')!;
    const changed = new TextEncoder().encode(`${new TextDecoder().decode(file.data!.data)} `);
    file.data = { size: changed.length, data: changed };
    const layer = await buildTreeLayer(entries);
    const check = serveCacheCheck(await layerFiles(Buffer.concat(layer.chunks)));
    expect(check.computed).not.toBe(check.stored);
  });
});
