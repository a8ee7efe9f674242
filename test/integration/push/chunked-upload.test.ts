// The streamed layer really goes up in PATCH chunks: push-image sends a multi-MB layer through
// a recording proxy (test/support/fault-proxy.ts with no faults) in front of a real
// docker-registry, and the test counts what the registry received — ceil(size / chunk size)
// PATCHes of the chunk size (the last shorter), contiguous, then one PUT ?digest= that the
// registry verifies (it refuses a wrong digest, shown with a second upload).
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../../lib/registry/registry-client.js';
import { assembleImage } from '../../../lib/stages/assemble-image.js';
import { pushImage } from '../../../lib/stages/push-image.js';
import { silentLogger } from '../../../lib/stages/types.js';
import { blobKey, buildKeys } from '../../../lib/store/keys.js';
import { LocalDirStore } from '../../../lib/store/local-dir-store.js';
import { dbLikeBytes } from '../../support/db-like.js';
import { type FaultProxy, startFaultProxy } from '../../support/fault-proxy.js';
import { type RegistryServer, startRegistry } from '../../support/registry-server.js';

const sha = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const EPOCH = 1_650_000_000;
const THRESHOLD = 1 << 20;
// No multiple of the store's 64 KiB reads, so chunks are re-cut from them.
const CHUNK = 700_001;

let reg: RegistryServer;
let proxy: FaultProxy;
let tmp: string;
let client: RegistryClient;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'chunked-upload-'));
  reg = await startRegistry();
  proxy = await startFaultProxy(reg.url, { rate: 0, seed: 1 });
  client = new RegistryClient({ insecure: true, chunkedThreshold: THRESHOLD, chunkSize: CHUNK });
});

afterAll(async () => {
  await client?.close();
  await proxy?.stop();
  await reg?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('a layer above the chunking threshold', () => {
  it('reaches the registry in ceil(size / chunk size) PATCHes and a digest the registry verifies', async () => {
    const store = new LocalDirStore(path.join(tmp, 'store'));
    const buildId = 'chunked1';
    const keys = buildKeys(buildId);
    // Random bytes: gzip cannot shrink the layer below the threshold.
    await store.putStream(keys.db, Readable.from([randomBytes(2 << 20)]));
    const assembled = await assembleImage(
      { buildId, dbKey: keys.db, from: 'scratch', sourceDateEpoch: EPOCH },
      { store, log: silentLogger, registry: client },
    );
    const layerDigest = assembled.platforms[0]!.layerDigest;
    const layer = await store.get(blobKey(layerDigest));
    expect(layer.length).toBeGreaterThan(THRESHOLD);

    proxy.requests.length = 0;
    await pushImage(
      {
        buildId,
        imageKey: assembled.imageKey,
        to: `${proxy.host}/chunked/catalog:v1`,
        insecure: true,
      },
      { store, log: silentLogger, registry: client },
    );

    // Only the layer is above the threshold: every PATCH is its, in order, back to back.
    const patches = proxy.requests.filter((r) => r.method === 'PATCH');
    const expectedChunks = Math.ceil(layer.length / CHUNK);
    expect(expectedChunks).toBeGreaterThan(1);
    expect(patches).toHaveLength(expectedChunks);
    expect(patches.map((p) => p.contentLength)).toEqual([
      ...Array(expectedChunks - 1).fill(CHUNK),
      layer.length - (expectedChunks - 1) * CHUNK,
    ]);
    expect(patches.every((p) => p.status === 202)).toBe(true);
    const closing = proxy.requests.filter(
      (r) => r.method === 'PUT' && r.url.includes(`digest=${encodeURIComponent(layerDigest)}`),
    );
    expect(closing).toMatchObject([{ status: 201 }]);

    // The registry holds the layer under that digest, and its bytes are the store's.
    expect(await client.blobExists(reg.host, 'chunked/catalog', layerDigest)).toBe(layer.length);
    const fetched = await client.getBlob(reg.host, 'chunked/catalog', layerDigest);
    expect(sha(fetched)).toBe(layerDigest);
    expect(Buffer.from(fetched).equals(Buffer.from(layer))).toBe(true);
  });

  it('is refused by the registry when the closing digest does not match the chunks', async () => {
    const blob = dbLikeBytes(THRESHOLD + 100_000, 'wrong digest');
    const wrong = sha(dbLikeBytes(16, 'something else'));
    proxy.requests.length = 0;
    await expect(
      client.uploadBlob(proxy.host, 'chunked/wrong', wrong, blob.length, blob),
    ).rejects.toMatchObject({ codes: ['DIGEST_INVALID'] });
    expect(proxy.requests.filter((r) => r.method === 'PATCH').length).toBeGreaterThanOrEqual(2);
    expect(await client.blobExists(reg.host, 'chunked/wrong', wrong)).toBeUndefined();
  });
});
