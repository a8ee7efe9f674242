// The behaviour every Store must show, as one suite run against each implementation
// (LocalDirStore here, S3Store on s3rver or any S3 endpoint in test/integration/store).
// Stages rely on exactly these properties: byte-exact round trips, create-if-absent,
// byte-ordered complete listings (past S3's 1,000-key page), typed not-found errors.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { getJson, putJson, type Store, StoreNotFoundError } from '../../../lib/store/store.js';

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

/** Deterministic pseudo-random bytes (incompressible, no repeating pattern S3 could hide). */
function bytes(size: number, seed: string): Buffer {
  const out = Buffer.alloc(size);
  let block = createHash('sha256').update(seed).digest();
  for (let off = 0; off < size; off += block.length) {
    block.copy(out, off);
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

export function storeContract(name: string, open: () => Promise<Store>): void {
  describe(`Store contract: ${name}`, () => {
    it('round-trips bytes and strings exactly, and reports sizes', async () => {
      const store = await open();
      const data = bytes(70_000, 'round-trip');
      expect(await store.put('blobs/sha256/a', data)).toBe(true);
      expect(await store.put('builds/b1/note.txt', 'héllo\n')).toBe(true);
      expect(Buffer.from(await store.get('blobs/sha256/a')).equals(data)).toBe(true);
      expect(new TextDecoder().decode(await store.get('builds/b1/note.txt'))).toBe('héllo\n');
      expect(await store.head('blobs/sha256/a')).toEqual({ key: 'blobs/sha256/a', size: 70_000 });
      expect(await store.head('builds/b1/note.txt')).toEqual({
        key: 'builds/b1/note.txt',
        size: 7,
      });
      expect(Buffer.from(await readAll(await store.getStream('blobs/sha256/a'))).equals(data)).toBe(
        true,
      );
    });

    it('streams a multi-part-sized object in and out unchanged', async () => {
      const store = await open();
      const data = bytes(9 * 1024 * 1024 + 123, 'big');
      const chunks = Array.from({ length: Math.ceil(data.length / 65536) }, (_, i) =>
        data.subarray(i * 65536, (i + 1) * 65536),
      );
      expect(await store.putStream('blobs/sha256/big', Readable.from(chunks))).toBe(true);
      expect((await store.head('blobs/sha256/big'))?.size).toBe(data.length);
      const back = await readAll(await store.getStream('blobs/sha256/big'));
      expect(createHash('sha256').update(back).digest('hex')).toBe(
        createHash('sha256').update(data).digest('hex'),
      );
    });

    it('overwrites by default, but ifNoneMatch never replaces an existing object', async () => {
      const store = await open();
      expect(await store.put('k/one', 'first')).toBe(true);
      expect(await store.put('k/one', 'second')).toBe(true);
      expect(new TextDecoder().decode(await store.get('k/one'))).toBe('second');
      expect(await store.put('k/one', 'third', { ifNoneMatch: true })).toBe(false);
      expect(
        await store.putStream('k/one', Readable.from([Buffer.from('fourth')]), {
          ifNoneMatch: true,
        }),
      ).toBe(false);
      expect(new TextDecoder().decode(await store.get('k/one'))).toBe('second');
      expect(await store.put('k/two', 'new', { ifNoneMatch: true })).toBe(true);
      expect(
        await store.putStream('k/three', Readable.from([Buffer.from('s')]), { ifNoneMatch: true }),
      ).toBe(true);
      expect(new TextDecoder().decode(await store.get('k/three'))).toBe('s');
    });

    it('answers absent keys with undefined (head) or StoreNotFoundError (get, getStream)', async () => {
      const store = await open();
      expect(await store.head('nothing/here')).toBeUndefined();
      await expect(store.get('nothing/here')).rejects.toMatchObject({ name: 'StoreNotFoundError' });
      await expect(store.getStream('nothing/here')).rejects.toBeInstanceOf(StoreNotFoundError);
      await expect(store.get('nothing/here')).rejects.toThrow(
        /reading nothing\/here .*: no such object/,
      );
    });

    it('lists every key under a prefix in byte order, across pages', async () => {
      const store = await open();
      const keys = Array.from(
        { length: 1010 },
        (_, i) => `builds/many/k${String(i).padStart(4, '0')}`,
      );
      for (let i = 0; i < keys.length; i += 50) {
        await Promise.all(keys.slice(i, i + 50).map((k) => store.put(k, 'x')));
      }
      await store.put('builds/manyother/z', 'zz');
      await store.put('builds/many/B', 'b');
      await store.put('builds/many/a', 'a');
      const listed = await store.list('builds/many/');
      expect(listed).toHaveLength(1012);
      expect(listed[0]).toEqual({ key: 'builds/many/B', size: 1 });
      expect(listed[1]?.key).toBe('builds/many/a');
      expect(listed.at(-1)?.key).toBe('builds/many/k1009');
      expect((await store.list('builds/manyother')).map((o) => o.key)).toEqual([
        'builds/manyother/z',
      ]);
      expect(await store.list('absent/')).toEqual([]);
    });

    it('deletes objects, and deleting an absent key is not an error', async () => {
      const store = await open();
      await store.put('d/x', 'x');
      await store.delete('d/x');
      expect(await store.head('d/x')).toBeUndefined();
      await store.delete('d/x');
      expect(await store.list('d/')).toEqual([]);
    });

    it('moves an object to a new key; ifNoneMatch keeps an existing target, the source goes', async () => {
      const store = await open();
      const data = bytes(70_000, 'move');
      await store.put('builds/m/layer', data);
      expect(await store.move('builds/m/layer', 'blobs/sha256/moved')).toBe(true);
      expect(await store.head('builds/m/layer')).toBeUndefined();
      expect(Buffer.from(await store.get('blobs/sha256/moved')).equals(data)).toBe(true);

      await store.put('builds/m/again', 'other bytes');
      expect(await store.move('builds/m/again', 'blobs/sha256/moved', { ifNoneMatch: true })).toBe(
        false,
      );
      expect(await store.head('builds/m/again')).toBeUndefined();
      expect(Buffer.from(await store.get('blobs/sha256/moved')).equals(data)).toBe(true);

      await store.put('builds/m/new', 'n');
      expect(await store.move('builds/m/new', 'blobs/sha256/fresh', { ifNoneMatch: true })).toBe(
        true,
      );
      expect(new TextDecoder().decode(await store.get('blobs/sha256/fresh'))).toBe('n');
      expect(await store.list('builds/m/')).toEqual([]);

      // House form "verb-ing object: cause", naming the move and the store.
      const absent = `moving builds/m/absent to blobs/sha256/x in ${store.location}: no such object`;
      await expect(store.move('builds/m/absent', 'blobs/sha256/x')).rejects.toMatchObject({
        name: 'StoreNotFoundError',
        message: absent,
      });
      await expect(
        store.move('builds/m/absent', 'blobs/sha256/fresh', { ifNoneMatch: true }),
      ).rejects.toMatchObject({
        name: 'StoreNotFoundError',
        message: `moving builds/m/absent to blobs/sha256/fresh in ${store.location}: no such object`,
      });
      expect(await store.head('blobs/sha256/x')).toBeUndefined();
    });

    it('rejects keys that are not plain relative paths', async () => {
      const store = await open();
      for (const bad of ['', '/abs', 'a/../b', 'a//b', 'a\\b']) {
        await expect(store.put(bad, 'x')).rejects.toMatchObject({ name: 'InvalidStoreKeyError' });
      }
    });

    it('round-trips JSON through getJson/putJson', async () => {
      const store = await open();
      await putJson(store, 'builds/j/request.json', { a: 1, b: ['x'] });
      expect(await getJson(store, 'builds/j/request.json')).toEqual({ a: 1, b: ['x'] });
    });
  });
}
