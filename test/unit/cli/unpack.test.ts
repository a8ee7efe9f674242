// unpackPackages on a real local store and real directories: each blob is read from the store
// once (the decoder only ever runs on what was read, so once per package — the decode itself
// is a pure function and is not observed directly), two packages writing the same file give
// the later one's copy whichever finishes first, a file/directory clash is a
// ManifestUnpackError naming both in either order, and any failure leaves neither DIR nor the
// staging directory behind.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { packPackage } from '../../../lib/appregistry/pack.js';
import {
  ManifestUnpackError,
  UNPACK_CONCURRENCY,
  unpackPackages,
} from '../../../lib/cli/unpack.js';
import { blobKey } from '../../../lib/store/keys.js';
import { LocalDirStore } from '../../../lib/store/local-dir-store.js';
import { flattenedBlob, storedPackage } from '../../fixtures/appregistry/blobs.js';

const enc = (t: string) => new TextEncoder().encode(t);

/** The real local store, counting how often each key is read. */
class CountingStore extends LocalDirStore {
  readonly reads = new Map<string, number>();
  override async get(key: string): Promise<Uint8Array> {
    this.reads.set(key, (this.reads.get(key) ?? 0) + 1);
    return super.get(key);
  }
}

let work: string;
let store: CountingStore;
beforeEach(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'unpack-unit-'));
  store = new CountingStore(path.join(work, 'store'));
  mkdirSync(path.join(work, 'o'));
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

const stored = (name: string, blob: Uint8Array) => storedPackage(store, name, blob);

const flat = (pkg: string, channel: string) =>
  flattenedBlob(
    `data:\n  packages: |\n    - packageName: ${pkg}\n      defaultChannel: ${channel}\n      channels:\n      - name: ${channel}\n        currentCSV: ${pkg}.v1\n`,
  );

/** What the outputs' parent holds (a staging directory left behind would show here). */
const outParent = () => readdirSync(path.join(work, 'o')).sort();

describe('unpackPackages', () => {
  it('reads each blob from the store once, and places every file once', async () => {
    const n = UNPACK_CONCURRENCY * 5 + 1;
    const pkgs = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        stored(
          `p${i}`,
          packPackage([
            { path: `p${i}.package.yaml`, data: enc(`packageName: p${i}\n`) },
            { path: `1.0.${i}/csv.yaml`, data: enc(`i: ${i}\n`) },
          ]),
        ),
      ),
    );
    const out = path.join(work, 'o', 'manifests');
    expect(await unpackPackages(store, pkgs, out)).toBe(2 * n);
    expect([...store.reads.values()]).toEqual(Array(n).fill(1));
    expect(store.reads.size).toBe(n);
    expect(readdirSync(out).sort()).toEqual(pkgs.map((p) => p.name).sort());
    for (let i = 0; i < n; i++)
      expect(readFileSync(path.join(out, `p${i}`, `1.0.${i}`, 'csv.yaml'), 'utf8')).toBe(
        `i: ${i}\n`,
      );
    expect(outParent()).toEqual(['manifests']);
  });

  it('the same file from two packages: the later one in the listing wins, either order', async () => {
    const a = await stored('a-flat', flat('dup', 'alpha'));
    const b = await stored('b-flat', flat('dup', 'beta'));
    // Many packages before them, so the two are decoded in different rounds of the fan-out.
    const filler = await Promise.all(
      Array.from({ length: UNPACK_CONCURRENCY + 1 }, (_, i) =>
        stored(`f${i}`, packPackage([{ path: 'x.yaml', data: enc(`f: ${i}\n`) }])),
      ),
    );
    for (const [order, winner] of [
      [[a, ...filler, b], 'beta'],
      [[b, a, ...filler], 'alpha'],
    ] as const) {
      const out = path.join(work, 'o', winner);
      await unpackPackages(store, order, out);
      expect(readFileSync(path.join(out, 'dup', 'dup.package.yaml'), 'utf8')).toContain(
        `defaultChannel: ${winner}`,
      );
    }
  });

  it('a file of one package where another has a directory: named error, nothing left, either order', async () => {
    const dirs = await stored(
      'evil',
      packPackage([
        { path: 'evil.package.yaml/x.yaml', data: enc('kind: X\n') },
        { path: 'evil.package.yaml/y.yaml', data: enc('kind: Y\n') },
      ]),
    );
    const file = await stored('flat-evil', flat('evil', 'stable'));
    const ok = await stored('fine', packPackage([{ path: 'a.yaml', data: enc('a: 1\n') }]));
    for (const order of [
      [ok, dirs, file],
      [file, ok, dirs],
    ]) {
      const out = path.join(work, 'o', 'manifests');
      const err = await unpackPackages(store, order, out).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ManifestUnpackError);
      expect((err as Error).name).toBe('ManifestUnpackError');
      expect((err as Error).message).toMatch(
        /^unpacking the downloaded manifests to .*: evil\/evil\.package\.yaml(\/[xy]\.yaml)? of package (evil|flat-evil) is (a directory|below the file evil\/evil\.package\.yaml) of package (evil|flat-evil)$/,
      );
      expect(outParent()).toEqual([]);
    }
  });

  it('a blob missing from the store fails the unpack and leaves nothing behind', async () => {
    const ok = await stored('fine', packPackage([{ path: 'a.yaml', data: enc('a: 1\n') }]));
    const gone = { ...ok, name: 'gone', key: blobKey('0'.repeat(64)) };
    await expect(
      unpackPackages(store, [ok, gone], path.join(work, 'o', 'manifests')),
    ).rejects.toThrow(/blobs\/sha256\/0{64}/);
    expect(outParent()).toEqual([]);
  });
});
