// The readers of fan-out stage records (fetched packages, fetched bundles, every item record
// for the report) run over thousands of records in a large build: they must keep at most
// RECORD_READS store reads in flight, not one per record at once, and still return list
// order. A wrapper around the real local store counts the reads in flight.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bundleItemName,
  RECORD_READS,
  readFetchedBundles,
  readFetchedPackages,
  readItemRecords,
  recordStageResult,
  type StageRecord,
  stageRecordKey,
} from '../../../lib/stages/stage-results.js';
import type { FetchBundleResult, FetchedPackage } from '../../../lib/stages/types.js';
import { LocalDirStore } from '../../../lib/store/local-dir-store.js';
import type { Store } from '../../../lib/store/store.js';

const COUNT = RECORD_READS * 3 + 5;
const ID = 'bounded-reads';
let dir: string;
let real: LocalDirStore;

function rec<T>(stage: StageRecord['stage'], result: T, item?: string): StageRecord<T> {
  const at = new Date(0).toISOString();
  return {
    stage,
    ...(item === undefined ? {} : { item }),
    startedAt: at,
    finishedAt: at,
    durationMs: 0,
    outcome: 'succeeded',
    result,
  };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'stage-results-bounded-'));
  real = new LocalDirStore(dir);
  // Names whose key order differs from list order, so order is checked, not assumed.
  const names = Array.from({ length: COUNT }, (_, i) => `pkg-${COUNT - i}`);
  await recordStageResult(
    real,
    ID,
    rec('list-packages', { buildId: ID, packages: names.map((name) => ({ name })) }),
  );
  await recordStageResult(
    real,
    ID,
    rec('list-bundles', { buildId: ID, count: COUNT, itemsKey: 'x' }),
  );
  for (const [i, name] of names.entries()) {
    const fetched = {
      name,
      release: '1.0.0',
      digest: `d${i}`,
      key: `k${i}`,
      size: i,
      downloaded: true,
    };
    await recordStageResult(real, ID, rec('fetch-package', fetched as FetchedPackage, name));
    const bundle: FetchBundleResult = {
      index: i,
      ref: `r${i}`,
      error: { name: 'E', message: 'm' },
    };
    await recordStageResult(real, ID, rec('fetch-bundle', bundle, bundleItemName(i)));
  }
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The real store, counting `get`s in flight; each read yields a few turns to let others pile up. */
function counting(store: Store) {
  const reads = { now: 0, max: 0, total: 0 };
  const wrapped: Store = Object.create(store);
  wrapped.get = async (key: string) => {
    reads.now++;
    reads.total++;
    reads.max = Math.max(reads.max, reads.now);
    try {
      for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
      return await store.get(key);
    } finally {
      reads.now--;
    }
  };
  return { store: wrapped, reads };
}

describe('stage record readers keep their store reads bounded', () => {
  it('readFetchedPackages: list order, at most RECORD_READS reads in flight', async () => {
    const { store, reads } = counting(real);
    const got = await readFetchedPackages(store, ID);
    expect(got.map((p) => p.name)).toEqual(
      Array.from({ length: COUNT }, (_, i) => `pkg-${COUNT - i}`),
    );
    expect(reads.total).toBe(COUNT + 1);
    expect(reads.max).toBeLessThanOrEqual(RECORD_READS);
    // The bound is reached, so the reads do overlap (the test would see an unbounded reader).
    expect(reads.max).toBe(RECORD_READS);
  });

  it('readItemRecords (the report): key order, at most RECORD_READS reads in flight', async () => {
    const { store, reads } = counting(real);
    const got = await readItemRecords<FetchBundleResult>(store, ID, 'fetch-bundle');
    expect(got.map((r) => r.result?.index)).toEqual(Array.from({ length: COUNT }, (_, i) => i));
    expect(reads.total).toBe(COUNT);
    expect(reads.max).toBe(RECORD_READS);
  });

  it('readFetchedBundles: list order, at most RECORD_READS reads in flight', async () => {
    const { store, reads } = counting(real);
    const got = await readFetchedBundles(store, ID);
    expect(got.unpulled.map((u) => u.index)).toEqual(Array.from({ length: COUNT }, (_, i) => i));
    expect(reads.max).toBe(RECORD_READS);
  });

  it('still fails when a listed record is missing', async () => {
    const { store } = counting(real);
    await real.delete(stageRecordKey(ID, 'fetch-package', 'pkg-7'));
    await expect(readFetchedPackages(store, ID)).rejects.toMatchObject({
      name: 'StoreNotFoundError',
    });
  });
});
