// The build-index stage on package blobs in a store: decode limits reach the decoder, and a
// build whose packages all fail to decode stops with NoManifestsError instead of shipping an
// empty catalog (oc failed the same way, "no manifests downloaded").
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { packPackage } from '../../../lib/appregistry/pack.js';
import {
  buildIndex,
  estimateBundleFoldersMemoryMb,
  estimateIndexMemoryMb,
  IndexMemoryLimitError,
  NoManifestsError,
} from '../../../lib/stages/build-index.js';
import { type FetchedPackage, silentLogger } from '../../../lib/stages/types.js';
import { LocalDirStore } from '../../../lib/store/local-dir-store.js';
import { readManifestDir } from '../../../lib/store/manifest-dir.js';
import { getJson } from '../../../lib/store/store.js';
import { storedPackage } from '../../fixtures/appregistry/blobs.js';

let dir: string;
let store: LocalDirStore;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'build-index-'));
  store = new LocalDirStore(dir);
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const storeBlob = (name: string, bytes: Uint8Array) => storedPackage(store, name, bytes);

describe('buildIndex on fetched package blobs', () => {
  it('fails with NoManifestsError when no package gives a manifest', async () => {
    const pkg = await storeBlob('broken', gzipSync(Buffer.from('not a tar archive at all')));
    const run = buildIndex({ buildId: 'b1', packages: [pkg] }, { store, log: silentLogger });
    await expect(run).rejects.toBeInstanceOf(NoManifestsError);
    await expect(run).rejects.toThrow(
      /no manifests downloaded \(1 of the packages could not be decoded\)/,
    );
  });

  it('passes decode limits to the decoder: the same blob loads without them', async () => {
    const files = (await readManifestDir('examples/manifests/hello-operator')).map((f) => ({
      ...f,
      path: `hello-operator/${f.path}`,
    }));
    const pkg = await storeBlob('hello-operator', packPackage(files));
    const loaded = await buildIndex(
      { buildId: 'b2', packages: [pkg] },
      { store, log: silentLogger },
    );
    expect(loaded.counts.operatorbundle).toBe(2);
    const capped = buildIndex(
      { buildId: 'b3', packages: [pkg], decodeLimits: { maxFileBytes: 100 } },
      { store, log: silentLogger },
    );
    await expect(capped).rejects.toBeInstanceOf(NoManifestsError);
  });

  it('builds from a local manifests directory and writes warnings.json', async () => {
    const result = await buildIndex(
      { buildId: 'b4', manifestDir: 'examples/manifests', sourceDateEpoch: 0 },
      { store, log: silentLogger },
    );
    expect(result.counts.package).toBe(2);
    expect(result.counts.operatorbundle).toBe(4);
    expect(result.dbDigest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect((await store.head(result.dbKey))?.size).toBe(result.dbSize);
    const warnings = await getJson<{ problems: unknown[] }>(store, result.warningsKey);
    expect(warnings.problems).toEqual([]);
  });

  it('loads blobs package by package into the same database as the directory they came from', async () => {
    const blobs: FetchedPackage[] = [];
    // Stored in reverse order: the parts still follow the walk order of the package folders.
    for (const name of ['todo-operator', 'hello-operator']) {
      const files = (await readManifestDir(`examples/manifests/${name}`)).map((f) => ({
        ...f,
        path: `${name}/${f.path}`,
      }));
      blobs.push(await storeBlob(name, packPackage(files)));
    }
    const fromDir = await buildIndex(
      { buildId: 'dir', manifestDir: 'examples/manifests', sourceDateEpoch: 0 },
      { store, log: silentLogger },
    );
    const fromBlobs = await buildIndex(
      { buildId: 'blobs', packages: blobs, sourceDateEpoch: 0 },
      { store, log: silentLogger },
    );
    expect(blobs.length).toBe(fromDir.counts.package);
    expect(fromBlobs.counts).toEqual(fromDir.counts);
    expect(fromBlobs.dbDigest).toBe(fromDir.dbDigest);
  });

  it('stops a build that would not fit its memory before loading, naming the setting to raise', async () => {
    const { peakMb } = estimateIndexMemoryMb(10 * 2 ** 20);
    expect(peakMb).toBeGreaterThan(128);
    const run = buildIndex(
      { buildId: 'b5', manifestDir: 'examples/manifests' },
      { store, log: silentLogger, memoryLimitMb: 128 },
    );
    await expect(run).rejects.toBeInstanceOf(IndexMemoryLimitError);
    await expect(run).rejects.toThrow(
      /building the index of build b5: .* more than the 121 MB usable of this function's 128 MB; raise the buildIndexMemory deployment parameter to at least \d+ MB/,
    );
    expect(await store.list('builds/b5/')).toEqual([]);
    const fits = await buildIndex(
      { buildId: 'b6', manifestDir: 'examples/manifests' },
      { store, log: silentLogger, memoryLimitMb: 1024 },
    );
    expect(fits.counts.package).toBe(2);
  });

  it('estimates bundle folders (loaded whole) above the peaks measured for them', () => {
    // 53 MB of bundle folders (the 473-bundle reference set) peaked at 236-257 MiB.
    expect(estimateBundleFoldersMemoryMb(53 * 2 ** 20).peakMb).toBeGreaterThan(257);
    expect(estimateBundleFoldersMemoryMb(53 * 2 ** 20).peakMb).toBeGreaterThan(
      estimateIndexMemoryMb(53 * 2 ** 20).peakMb,
    );
  });

  it('judges a bundlePrefix by its listed size before reading it, and refuses an empty one', async () => {
    // 40 MB under the prefix: bundle folders of that size need about 240 MB, over the 190 MB
    // usable of 200 MB (the package-manifest model would say 183 MB and let it through).
    await store.put('incoming/big/p/1.0.0/manifests/big.yaml', new Uint8Array(40 * 2 ** 20));
    const run = buildIndex(
      { buildId: 'b-prefix', bundlePrefix: 'incoming/big/' },
      { store, log: silentLogger, memoryLimitMb: 200 },
    );
    await expect(run).rejects.toBeInstanceOf(IndexMemoryLimitError);
    await expect(run).rejects.toThrow(/more than the 190 MB usable of this function's 200 MB/);
    await expect(
      buildIndex(
        { buildId: 'b-prefix2', bundlePrefix: 'incoming/none/' },
        { store, log: silentLogger },
      ),
    ).rejects.toMatchObject({
      name: 'ManifestPrefixError',
      message: expect.stringContaining('incoming/none/: no objects under the prefix'),
    });
  });
});
