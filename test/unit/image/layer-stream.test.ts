// The streamed layer (what assemble-image writes to the store, chunk by chunk) is byte for byte
// the layer the in-memory builder made before streaming: pinned digests recorded from that
// builder for DB-like fixtures at tar-block boundaries and at MB sizes, and the same bytes as an
// independent whole-buffer reference (tar-stream in one piece, gzipSync, OS byte 255).
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { constants, gzipSync } from 'node:zlib';
import initSqlJs from 'sql.js';
import tarStream from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { type LayerStream, streamTreeLayer } from '../../../lib/image/layer.js';
import { dbLikeBytes } from '../../support/db-like.js';

const sha = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Reads the stream in whatever chunks it gives, as a store does. */
async function drain(layer: LayerStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of layer.bytes) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** The layer built whole, without streaming: tar-stream given the file in one piece, gzipSync. */
async function wholeReference(db: Buffer, mtime: number): Promise<Buffer> {
  const pack = tarStream.pack();
  const header = { name: 'bundles.db', mode: 0o644, uid: 0, gid: 0, uname: '', gname: '' };
  pack.entry({ ...header, mtime: new Date(mtime * 1000), type: 'file', size: db.length }, db);
  pack.finalize();
  const parts: Buffer[] = [];
  for await (const c of pack as unknown as AsyncIterable<Buffer>) parts.push(c);
  const gz = gzipSync(Buffer.concat(parts), { level: constants.Z_DEFAULT_COMPRESSION });
  gz[9] = 0xff;
  return gz;
}

/** A DB source read in 64 KiB pieces, as the store's streams give it. */
function pieces(db: Buffer): AsyncIterable<Uint8Array> {
  return Readable.from(
    Array.from({ length: Math.ceil(db.length / 65536) }, (_, i) =>
      db.subarray(i * 65536, (i + 1) * 65536),
    ),
  );
}

const streamDb = (db: Buffer, mtime: number) =>
  streamTreeLayer(
    [{ path: 'bundles.db', mode: 0o644, data: { size: db.length, data: pieces(db) } }],
    {
      mtime,
    },
  );

// Recorded on 2026-11-29 from the in-memory builder (buildLayer before the layer was streamed).
const PINNED = [
  {
    size: 0,
    mtime: 0,
    digest: '433ae93290adeff795c86efbae884d0935c307fd7a7370d9ed535cd9c8db4213',
    layerSize: 83,
    diffId: 'ac48f70732dcc4f2fa2fa83d1d13ee22b2aad95f3f208a4b0b33220d6d6ef3c9',
    tarSize: 1536,
  },
  {
    size: 1,
    mtime: 0,
    digest: 'f38cb245fb5eaf3ff3a00440f0cbfe8a7c77c654791ae86165bc5e48e7388de0',
    layerSize: 95,
    diffId: 'd1c58be84b8af7c72e15ab5c123cddf7a60fe913f05e44a2203bd71724ecfc55',
    tarSize: 2048,
  },
  {
    size: 511,
    mtime: 0,
    digest: '47ea0fd15ac5289ff9f0c2e39aaf614edb9ff68d6f6876619f360c8e07329862',
    layerSize: 329,
    diffId: '030aeef01c09cd098f4570fec0b6e5c53ac56182ce1b12a96c8f5db200c53031',
    tarSize: 2048,
  },
  {
    size: 512,
    mtime: 0,
    digest: 'dee1f2d137be71da8a37990d1d85e910fd8af36e52e30b099797d24001304e6b',
    layerSize: 337,
    diffId: 'b546d2331d6ef74ad81c932076c354d74c016369ee3b0a47c8e422acb8f2bd9e',
    tarSize: 2048,
  },
  {
    size: 513,
    mtime: 1_600_000_000,
    digest: 'cd172d16a3ae4d89ef99aa8c695828f14fca5afea3d7d9eebd87aa0b1201d9b5',
    layerSize: 338,
    diffId: 'e6564eb36ab7fa53b78c7371cfa9f1476b6b0668f0df6379cc77425b0953993c',
    tarSize: 2560,
  },
  {
    size: 3 * 1024 * 1024 + 7,
    mtime: 0,
    digest: '7e028a38aa73b045a1b43ba769c729d54fb0be871a51a7b9634a42f1ab4f62a0',
    layerSize: 761077,
    diffId: '44d6351e159cd391f8027c0e0737cd2c41e73e81e2a96fe241597c088113e239',
    tarSize: 3147776,
  },
  {
    size: 9 * 1024 * 1024,
    mtime: 1_700_000_000,
    digest: '1bbf3a4bdb054f337e32a08e4bddd5b1182fdb304cebf49c354fb270287ae5d1',
    layerSize: 2282254,
    diffId: 'da7993b9a3d3a8237c0941c288d8a7b3eb5d89213847e30ae7d60e24650ac67a',
    tarSize: 9438720,
  },
];

describe('streamed layer', () => {
  for (const p of PINNED) {
    it(`${p.size}-byte DB, mtime ${p.mtime}: the pinned layer of the in-memory builder, and the whole-buffer reference`, async () => {
      const db = dbLikeBytes(p.size, `fixture-${p.size}`);
      const layer = streamDb(db, p.mtime);
      const gz = await drain(layer);
      const digests = await layer.digests;
      expect(digests).toEqual({
        digest: `sha256:${p.digest}`,
        size: p.layerSize,
        diffId: `sha256:${p.diffId}`,
        tarSize: p.tarSize,
      });
      expect(sha(gz)).toBe(digests.digest);
      expect(gz.length).toBe(digests.size);
      expect(gz.equals(await wholeReference(db, p.mtime))).toBe(true);
    });
  }

  it('a real SQLite file gives the whole-buffer reference bytes too', async () => {
    const SQL = await initSqlJs();
    const sqlite = new SQL.Database();
    sqlite.run('CREATE TABLE package (name TEXT PRIMARY KEY, default_channel TEXT)');
    for (let i = 0; i < 2000; i++)
      sqlite.run('INSERT INTO package VALUES (?, ?)', [`pkg-${i}`, 'stable']);
    const db = Buffer.from(sqlite.export());
    sqlite.close();
    const layer = streamDb(db, 0);
    const gz = await drain(layer);
    expect(gz.equals(await wholeReference(db, 0))).toBe(true);
    expect((await layer.digests).digest).toBe(sha(gz));
  });

  it('a failing DB read fails the stream and the digests with that same error', async () => {
    const failure = new Error('connection reset while reading the DB');
    const layer = streamTreeLayer([
      {
        path: 'bundles.db',
        mode: 0o644,
        data: {
          size: 1 << 20,
          data: (async function* () {
            yield dbLikeBytes(300_000, 'partial');
            throw failure;
          })(),
        },
      },
    ]);
    await expect(drain(layer)).rejects.toBe(failure);
    await expect(layer.digests).rejects.toBe(failure);
  });
});
