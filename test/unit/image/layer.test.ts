// The DB layer is byte-for-byte reproducible and holds exactly one root-owned 0644 file.
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import tarStream from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { buildLayer } from '../../../lib/image/layer.js';

const sha = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function readTar(tar: Uint8Array) {
  const entries: { header: tarStream.Header; data: Buffer }[] = [];
  const ex = tarStream.extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (header, stream, next) => {
      const parts: Buffer[] = [];
      stream.on('data', (c: unknown) => parts.push(c as Buffer));
      stream.on('end', () => {
        entries.push({ header, data: Buffer.concat(parts) });
        next();
      });
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
  });
  ex.end(Buffer.from(tar));
  await done;
  return entries;
}

describe('buildLayer', () => {
  const db = randomBytes(200_000);

  it('gives the same bytes and digests for the same content, streamed or whole', async () => {
    const a = await buildLayer({ size: db.length, data: db });
    const chunks = [db.subarray(0, 1000), db.subarray(1000, 150_001), db.subarray(150_001)];
    const b = await buildLayer({ size: db.length, data: Readable.from(chunks) });
    expect(b.digest).toBe(a.digest);
    expect(b.diffId).toBe(a.diffId);
    expect(Buffer.concat(b.chunks).equals(Buffer.concat(a.chunks))).toBe(true);
  });

  it('digest, size and diffId describe the bytes it returns', async () => {
    const l = await buildLayer({ size: db.length, data: db }, { mtime: 1_600_000_000 });
    const gz = Buffer.concat(l.chunks);
    expect(l.size).toBe(gz.length);
    expect(l.digest).toBe(sha(gz));
    const tar = gunzipSync(gz);
    expect(l.diffId).toBe(sha(tar));
    expect(l.tarSize).toBe(tar.length);
  });

  it('writes a fixed gzip header: no mtime, no name, OS unknown (255)', async () => {
    const l = await buildLayer({ size: 3, data: new Uint8Array([1, 2, 3]) });
    expect([...Buffer.concat(l.chunks).subarray(0, 10)]).toEqual([
      0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff,
    ]);
  });

  it('holds one file bundles.db at the root, 0644, uid/gid 0, mtime from the option', async () => {
    const l = await buildLayer({ size: db.length, data: db }, { mtime: 1_234_567_890 });
    const entries = await readTar(gunzipSync(Buffer.concat(l.chunks)));
    expect(entries).toHaveLength(1);
    const [e] = entries;
    expect(e!.header.name).toBe('bundles.db');
    expect(e!.header.type).toBe('file');
    expect(e!.header.mode).toBe(0o644);
    expect(e!.header.uid).toBe(0);
    expect(e!.header.gid).toBe(0);
    expect(e!.header.uname ?? '').toBe('');
    expect(e!.header.mtime?.getTime()).toBe(1_234_567_890_000);
    expect(e!.data.equals(db)).toBe(true);
  });

  it('changes digest with the mtime and with the content', async () => {
    const a = await buildLayer({ size: 4, data: Buffer.from('abcd') });
    const b = await buildLayer({ size: 4, data: Buffer.from('abcd') }, { mtime: 1 });
    const c = await buildLayer({ size: 4, data: Buffer.from('abce') });
    expect(new Set([a.digest, b.digest, c.digest]).size).toBe(3);
  });

  it('pins the digest of a known input (guards against silent format changes)', async () => {
    const l = await buildLayer({ size: 5, data: Buffer.from('hello') });
    // Uncompressed tar is fully determined by tar-stream's ustar writer.
    expect(l.diffId).toBe(
      'sha256:0b0865c8bdbc85ea11f6b5f84d9671b359b6473408749beeacbbc2ee760f7d44',
    );
    expect(l.tarSize).toBe(2048);
  });

  it('fails when the data is shorter than the declared size', async () => {
    await expect(buildLayer({ size: 10, data: Buffer.from('abc') })).rejects.toThrow(/size/i);
  });

  it('refuses a negative or fractional mtime', async () => {
    await expect(buildLayer({ size: 1, data: Buffer.from('a') }, { mtime: -1 })).rejects.toThrow(
      RangeError,
    );
    await expect(buildLayer({ size: 1, data: Buffer.from('a') }, { mtime: 1.5 })).rejects.toThrow(
      RangeError,
    );
  });
});
