// Two assembles of one build at once (a retry overlapping a slow first attempt) must both
// succeed with the same layer: each streams its layer to a key of its own before moving it to
// blobs/sha256/<digest>, and a failed attempt removes its object. Against the local store and
// a real S3 server (s3rver).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLayer } from '../../../lib/image/layer.js';
import { assembleImage } from '../../../lib/stages/assemble-image.js';
import { silentLogger } from '../../../lib/stages/types.js';
import { blobKey, buildKeys } from '../../../lib/store/keys.js';
import { LocalDirStore } from '../../../lib/store/local-dir-store.js';
import { type Store, StoreUnavailableError } from '../../../lib/store/store.js';
import { dbLikeBytes } from '../../support/db-like.js';
import { type S3TestServer, startS3Server } from '../../support/s3-server.js';

const EPOCH = 1_650_000_000;

let tmp: string;
let s3: S3TestServer;
beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'concurrent-assemble-'));
  s3 = await startS3Server();
});
afterAll(async () => {
  await s3?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const stores: Array<[string, () => Promise<Store>]> = [
  ['LocalDirStore', async () => new LocalDirStore(mkdtempSync(path.join(tmp, 'store-')))],
  ['S3Store', () => s3.newStore()],
];

describe.each(stores)('assemble-image on %s', (_name, open) => {
  it('two concurrent assembles of one build both succeed with the same layer', async () => {
    const store = await open();
    const buildId = 'concurrent1';
    const keys = buildKeys(buildId);
    const db = dbLikeBytes(2 << 20, 'concurrent');
    await store.put(keys.db, db);
    const run = () =>
      assembleImage(
        { buildId, dbKey: keys.db, from: 'scratch', sourceDateEpoch: EPOCH },
        { store, log: silentLogger },
      );
    const [a, b] = await Promise.all([run(), run()]);
    const expected = await buildLayer({ size: db.length, data: db }, { mtime: EPOCH });
    expect(a.platforms[0]!.layerDigest).toBe(expected.digest);
    expect(b.platforms[0]!.layerDigest).toBe(expected.digest);
    expect(b.digest).toBe(a.digest);
    const stored = Buffer.from(await store.get(blobKey(expected.digest)));
    expect(stored.equals(Buffer.concat(expected.chunks))).toBe(true);
    expect(await store.list(keys.layerUploads)).toEqual([]);
  });

  it('an attempt whose move fails removes its uploaded layer', async () => {
    const store = await open();
    const buildId = 'concurrent2';
    const keys = buildKeys(buildId);
    await store.put(keys.db, dbLikeBytes(300_000, 'move fails'));
    const failure = new StoreUnavailableError('moving the layer in test: connection reset');
    const failing: Store = Object.create(store);
    const moved: string[] = [];
    failing.move = async (from) => {
      moved.push(from);
      throw failure;
    };
    await expect(
      assembleImage(
        { buildId, dbKey: keys.db, from: 'scratch', sourceDateEpoch: EPOCH },
        { store: failing, log: silentLogger },
      ),
    ).rejects.toBe(failure);
    // The upload was there when the move was tried, and is gone now.
    expect(moved).toHaveLength(1);
    expect(moved[0]!.startsWith(keys.layerUploads)).toBe(true);
    expect(await store.list(keys.layerUploads)).toEqual([]);
    expect(await store.list('blobs/')).toEqual([]);
  });
});
