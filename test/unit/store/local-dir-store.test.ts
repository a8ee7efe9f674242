// The store contract on the local directory store (the CLI's store), and what is its own:
// no temporary file is left behind, and the directories it remembers having made are made
// again when they were removed behind its back.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalDirStore, StoreWriteError } from '../../../lib/store/local-dir-store.js';
import { storeContract } from './store-contract.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'store-'));
  dirs.push(dir);
  return dir;
}

storeContract('LocalDirStore', async () => new LocalDirStore(await tempDir()));

describe('LocalDirStore on disk', () => {
  it('leaves no temporary file after a put, a refused create-if-absent and a stream', async () => {
    const dir = await tempDir();
    const store = new LocalDirStore(dir);
    await store.put('a/b/one', 'x');
    await store.put('a/b/one', 'y');
    expect(await store.put('a/b/one', 'z', { ifNoneMatch: true })).toBe(false);
    expect(await store.put('a/b/two', 'z', { ifNoneMatch: true })).toBe(true);
    expect((await readdir(path.join(dir, 'a', 'b'))).sort()).toEqual(['one', 'two']);
    expect(new TextDecoder().decode(await store.get('a/b/one'))).toBe('y');
  });

  it('a folder removed behind its back fails one write, named, and the next makes it again', async () => {
    const dir = await tempDir();
    const store = new LocalDirStore(dir);
    await store.put('builds/x/one', 'x');
    await rm(path.join(dir, 'builds'), { recursive: true });
    await expect(store.put('builds/x/two', 'x')).rejects.toBeInstanceOf(StoreWriteError);
    await store.put('builds/x/two', 'x');
    expect(await store.head('builds/x/two')).toEqual({ key: 'builds/x/two', size: 1 });
    expect(await store.head('builds/x/one')).toBeUndefined();
    expect(await store.head('builds/x')).toBeUndefined();
  });
});

describe('LocalDirStore listing', () => {
  it('lists under a prefix from its folder: a key whose folder is a file lists nothing', async () => {
    const store = new LocalDirStore(await tempDir());
    await store.put('builds/b1/configs/p/catalog.json', '{}');
    await store.put('builds/b1/stages/x', '{}');
    await store.put('blobs/sha256/aa', 'x');
    expect((await store.list('builds/b1/configs/')).map((o) => o.key)).toEqual([
      'builds/b1/configs/p/catalog.json',
    ]);
    expect((await store.list('builds/b1/c')).map((o) => o.key)).toEqual([
      'builds/b1/configs/p/catalog.json',
    ]);
    expect(await store.list('blobs/sha256/aa/')).toEqual([]);
    expect((await store.list('')).map((o) => o.key)).toHaveLength(3);
  });
});
