// A multi-MB DB layer streamed end to end: assemble-image writes it to the store in chunks
// (under the build, then moved to blobs/sha256/<digest>) and push-image sends it to a real
// docker-registry in PATCH chunks (a client with a low chunked threshold, and a chunk size that
// cuts across the store's 64 KiB reads) and to an OCI layout; skopeo reads it back. The bytes
// must be the in-memory builder's, and the digests in manifest and config must describe them.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLayer } from '../../../lib/image/layer.js';
import { RegistryClient } from '../../../lib/registry/registry-client.js';
import { assembleImage } from '../../../lib/stages/assemble-image.js';
import { pushImage } from '../../../lib/stages/push-image.js';
import { silentLogger } from '../../../lib/stages/types.js';
import { blobKey, buildKeys } from '../../../lib/store/keys.js';
import { LocalDirStore } from '../../../lib/store/local-dir-store.js';
import { type Store, StoreUnavailableError } from '../../../lib/store/store.js';
import { dbLikeBytes } from '../../support/db-like.js';
import { type RegistryServer, startRegistry } from '../../support/registry-server.js';
import { layerFiles, pullWithSkopeo } from '../../support/skopeo.js';

const sha = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const EPOCH = 1_650_000_000;
const DB_SIZE = 12 * 1024 * 1024 + 333;

let reg: RegistryServer;
let tmp: string;
let store: LocalDirStore;
let client: RegistryClient;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'streamed-layer-'));
  store = new LocalDirStore(path.join(tmp, 'store'));
  reg = await startRegistry();
  // Chunked above 1 MiB, in chunks that are no multiple of the store's 64 KiB reads.
  client = new RegistryClient({ insecure: true, chunkedThreshold: 1 << 20, chunkSize: 700_001 });
});

afterAll(async () => {
  await client?.close();
  await reg?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('a multi-MB DB layer streamed through assemble and push', () => {
  const db = dbLikeBytes(DB_SIZE, 'streamed-layer');

  it('is the in-memory layer in the store, and round-trips through a real registry and an OCI layout', async () => {
    const buildId = 'streamed1';
    const keys = buildKeys(buildId);
    await store.putStream(keys.db, Readable.from([db]));
    const assembled = await assembleImage(
      { buildId, dbKey: keys.db, from: 'scratch', sourceDateEpoch: EPOCH },
      { store, log: silentLogger, registry: client },
    );
    const expected = await buildLayer({ size: db.length, data: db }, { mtime: EPOCH });
    const expectedBytes = Buffer.concat(expected.chunks);
    expect(expected.size).toBeGreaterThan(2 << 20); // several PATCH chunks
    const layerDigest = assembled.platforms[0]!.layerDigest;
    expect(layerDigest).toBe(expected.digest);
    expect(Buffer.from(await store.get(blobKey(layerDigest))).equals(expectedBytes)).toBe(true);
    expect(await store.list(keys.layerUploads)).toEqual([]);

    const to = `${reg.host}/streamed/catalog:v1`;
    const pushed = await pushImage(
      { buildId, imageKey: assembled.imageKey, to, insecure: true },
      { store, log: silentLogger, registry: client },
    );
    expect(pushed.digest).toBe(assembled.digest);
    expect(pushed.blobs).toMatchObject({ uploaded: 2, mounted: 0, present: 0 });

    const { manifest, config, lastLayer } = pullWithSkopeo(to, tmp);
    expect(manifest.layers).toEqual([
      expect.objectContaining({ digest: expected.digest, size: expected.size }),
    ]);
    expect(sha(lastLayer)).toBe(expected.digest);
    expect(config.rootfs.diff_ids).toEqual([expected.diffId]);
    expect(sha(gunzipSync(lastLayer))).toBe(expected.diffId);
    const files = await layerFiles(lastLayer);
    expect(files.map((f) => [f.name, f.mode, f.data.equals(db)])).toEqual([
      ['bundles.db', 0o644, true],
    ]);

    // The OCI layout sink copies the same bytes from the store.
    const layout = path.join(tmp, 'layout');
    await pushImage(
      { buildId, imageKey: assembled.imageKey, to: `oci:${layout}:v1` },
      { store, log: silentLogger },
    );
    const copied = readFileSync(path.join(layout, 'blobs', 'sha256', expected.digest.slice(7)));
    expect(copied.equals(expectedBytes)).toBe(true);

    // Assembled again: the same layer is found in place, the upload key is gone again.
    const again = await assembleImage(
      { buildId, dbKey: keys.db, from: 'scratch', sourceDateEpoch: EPOCH },
      { store, log: silentLogger, registry: client },
    );
    expect(again.digest).toBe(assembled.digest);
    expect(await store.list(keys.layerUploads)).toEqual([]);
  });

  it('a DB read that fails mid-stream fails the stage with that error, and leaves no layer', async () => {
    const buildId = 'streamed2';
    const keys = buildKeys(buildId);
    await store.put(keys.db, dbLikeBytes(3 << 20, 'fails'));
    const failure = new StoreUnavailableError(`reading ${keys.db} from test: connection reset`);
    const failing: Store = Object.create(store);
    failing.getStream = async (key) => {
      if (key !== keys.db) return store.getStream(key);
      return Readable.from(
        (async function* () {
          yield dbLikeBytes(200_000, 'first part');
          throw failure;
        })(),
      );
    };
    const before = (await store.list('blobs/')).length;
    await expect(
      assembleImage(
        { buildId, dbKey: keys.db, from: 'scratch', sourceDateEpoch: EPOCH },
        { store: failing, log: silentLogger },
      ),
    ).rejects.toBe(failure);
    expect(await store.list(keys.layerUploads)).toEqual([]);
    expect(await store.list('blobs/')).toHaveLength(before);
    expect(await store.head(keys.image)).toBeUndefined();
  });
});
