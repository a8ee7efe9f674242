// The directory layouts on a real file system: hostile digests, repository paths and symlinks
// are refused; content that does not match its digest is caught on read and on write; tags in
// an OCI layout are replaced, not duplicated.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileLayout } from '../../../lib/layout/file-layout.js';
import { OciLayout, REF_NAME_ANNOTATION } from '../../../lib/layout/oci-layout.js';

const sha = (b: Uint8Array | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'layouts-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function collect(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

describe('OciLayout', () => {
  it('writes verified blobs and replaces a tag instead of duplicating it', async () => {
    const layout = new OciLayout(path.join(tmp, 'oci1'));
    const a = Buffer.from('{"a":1}');
    const b = Buffer.from('{"b":2}');
    expect(await layout.writeBlob(sha(a), a.length, a)).toBe(true);
    expect(await layout.writeBlob(sha(a), a.length, a)).toBe(false);
    await layout.writeBlob(sha(b), b.length, b);
    await layout.setTag(
      { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha(a), size: a.length },
      't',
    );
    await layout.setTag(
      { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha(b), size: b.length },
      't',
    );
    await layout.setTag(
      { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha(a), size: a.length },
      'u',
    );
    const index = await layout.readIndex();
    expect(index.manifests.map((m) => [m.annotations?.[REF_NAME_ANNOTATION], m.digest])).toEqual([
      ['t', sha(b)],
      ['u', sha(a)],
    ]);
    expect((await layout.resolve('t')).digest).toBe(sha(b));
    await expect(layout.resolve()).rejects.toThrow(/2 images match/);
    await expect(layout.resolve('nope')).rejects.toThrow(/no such image/);
    expect(JSON.parse(readFileSync(path.join(tmp, 'oci1', 'oci-layout'), 'utf8'))).toEqual({
      imageLayoutVersion: '1.0.0',
    });
  });

  it('refuses content that does not match its digest, on write and on read', async () => {
    const dir = path.join(tmp, 'oci2');
    const layout = new OciLayout(dir);
    const good = Buffer.from('good');
    await expect(layout.writeBlob(sha('other'), good.length, good)).rejects.toThrow(
      /content has digest/,
    );
    await layout.writeBlob(sha(good), good.length, good);
    writeFileSync(path.join(dir, 'blobs', 'sha256', sha(good).slice(7)), 'evil');
    await expect(layout.readBlob(sha(good))).rejects.toThrow(/content has digest/);
    await expect(collect(layout.blobStream(sha(good)))).rejects.toThrow(/content has digest/);
  });

  it('never turns a hostile digest from index.json into a path', async () => {
    const dir = path.join(tmp, 'oci3');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      path.join(dir, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [{ mediaType: 'x', digest: 'sha256:../../../etc/passwd', size: 1 }],
      }),
    );
    const layout = new OciLayout(dir);
    const d = await layout.resolve();
    await expect(layout.readBlob(d.digest)).rejects.toThrow(/not a sha256 digest/);
  });
});

describe('FileLayout', () => {
  it.each(['../x', 'a/../../x', 'a//b', '/abs', 'a/./b', 'a\\b'])(
    'refuses repository path %j',
    (p) => {
      expect(() => new FileLayout(path.join(tmp, 'f'), p)).toThrow(
        /not a safe repository path|escapes/,
      );
    },
  );

  it('refuses a tree whose existing symlink leads outside the root', async () => {
    const root = path.join(tmp, 'f-sym');
    const outside = path.join(tmp, 'outside');
    mkdirSync(path.join(root, 'v2'), { recursive: true });
    mkdirSync(outside, { recursive: true });
    symlinkSync(outside, path.join(root, 'v2', 'ns'));
    const layout = new FileLayout(root, 'ns/img');
    const data = Buffer.from('x');
    await expect(layout.writeBlob(sha(data), 1, data)).rejects.toThrow(
      /symlink leads outside the root/,
    );
  });

  it('reads a tag back through its symlink and verifies it', async () => {
    const root = path.join(tmp, 'f-ok');
    const layout = new FileLayout(root, 'ns/img');
    const m = Buffer.from('{"schemaVersion":2}');
    await layout.writeManifest(m, sha(m));
    await layout.setTag('v1', sha(m));
    expect(await layout.readManifest('v1')).toEqual({ bytes: m, digest: sha(m) });
    await expect(layout.readManifest('../../x')).rejects.toThrow(/not a tag or digest/);
  });
});
