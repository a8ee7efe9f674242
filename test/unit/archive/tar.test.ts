// The tar reader against archives written by GNU tar (the formats real blobs use) and by our
// own writer, plus the malformed inputs it must refuse with a named error.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { readTar, TarError, TarLimitError, writeTar } from '../../../lib/archive/tar.js';

const limits = { maxEntries: 1000, maxMetaBytes: 1 << 20 };
const text = (d: Uint8Array) => new TextDecoder().decode(d);
const work = mkdtempSync(path.join(tmpdir(), 'tar-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('readTar', () => {
  const longDir = `${'d'.repeat(60)}/${'e'.repeat(60)}`;
  const longFile = `${'f'.repeat(120)}.yaml`;
  const src = path.join(work, 'src');
  mkdirSync(path.join(src, 'pkg', longDir), { recursive: true });
  writeFileSync(path.join(src, 'pkg', 'a.yaml'), 'a: 1\n');
  writeFileSync(path.join(src, 'pkg', longDir, longFile), 'long: true\n');

  for (const format of ['gnu', 'pax', 'ustar'] as const) {
    it(`reads long names from GNU tar --format=${format}`, () => {
      if (format === 'ustar') {
        // ustar cannot hold a 124-byte last component; GNU tar refuses, so skip that file.
        rmSync(path.join(src, 'pkg', longDir, longFile));
        writeFileSync(path.join(src, 'pkg', longDir, 'short.yaml'), 'long: true\n');
      }
      const archive = execFileSync('tar', [
        `--format=${format}`,
        '--sort=name',
        '-cf',
        '-',
        '-C',
        src,
        'pkg',
      ]);
      const entries = [...readTar(new Uint8Array(archive), limits)];
      const files = entries.filter((e) => e.type === 'file');
      const expectedLong = `pkg/${longDir}/${format === 'ustar' ? 'short.yaml' : longFile}`;
      expect(files.map((e) => e.name).sort()).toEqual(['pkg/a.yaml', expectedLong].sort());
      expect(text(files.find((e) => e.name === expectedLong)!.data)).toBe('long: true\n');
      expect(entries.filter((e) => e.type === 'dir').map((e) => e.name)).toContain('pkg/');
    });
  }

  it('round-trips what writeTar writes (any names, types and contents)', () => {
    const segment = fc
      .stringMatching(/^[a-zA-Z0-9._-]{1,80}$/)
      .filter((s) => s !== '.' && s !== '..');
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            parts: fc.array(segment, { minLength: 1, maxLength: 4 }),
            data: fc.uint8Array({ maxLength: 1500 }),
          }),
          {
            maxLength: 12,
          },
        ),
        (files) => {
          const written = files.map((f) => ({ name: f.parts.join('/'), data: f.data }));
          const read = [...readTar(writeTar(written), limits)];
          expect(read.map((e) => e.name)).toEqual(written.map((w) => w.name));
          const same = read.map((e, i) =>
            Buffer.from(e.data).equals(Buffer.from(written[i]!.data)),
          );
          expect(same.every(Boolean)).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('is read by GNU tar too (the writer emits valid ustar/PAX)', () => {
    const archive = writeTar([
      { name: 'x/', type: 'dir' },
      { name: `x/${'n'.repeat(150)}.yaml`, data: 'ok\n' },
      { name: 'x/link', type: 'symlink', linkname: 'target' },
    ]);
    const listing = execFileSync('tar', ['-tvf', '-'], { input: archive }).toString();
    expect(listing).toContain(`x/${'n'.repeat(150)}.yaml`);
    expect(listing).toMatch(/x\/link -> target/);
  });

  it('names links, devices and odd types instead of treating them as files', () => {
    const archive = writeTar([
      { name: 's', type: 'symlink', linkname: '/etc/passwd' },
      { name: 'h', type: 'hardlink', linkname: 'other' },
      { name: 'c', type: 'char-device' },
      { name: 'b', type: 'block-device' },
      { name: 'p', type: 'fifo' },
      { name: 'v', typeflag: 'V' },
      { name: 'old-dir/', typeflag: '\0' },
    ]);
    expect([...readTar(archive, limits)].map((e) => [e.name, e.type, e.linkname])).toEqual([
      ['s', 'symlink', '/etc/passwd'],
      ['h', 'hardlink', 'other'],
      ['c', 'char-device', ''],
      ['b', 'block-device', ''],
      ['p', 'fifo', ''],
      ['v', 'other', ''],
      ['old-dir/', 'dir', ''],
    ]);
  });

  it('refuses a bad checksum, a cut-off entry and too many entries', () => {
    const good = writeTar([{ name: 'a.yaml', data: 'x'.repeat(2000) }]);
    const corrupt = Uint8Array.from(good);
    corrupt[10] = corrupt[10]! ^ 0xff;
    expect(() => [...readTar(corrupt, limits)]).toThrow(/bad header checksum/);
    expect(() => [...readTar(good.subarray(0, 1024), limits)]).toThrow(TarError);
    expect(() => [...readTar(good.subarray(0, 1024), limits)]).toThrow(/truncated/);
    const many = writeTar(Array.from({ length: 11 }, (_, i) => ({ name: `f${i}`, data: '' })));
    expect(() => [...readTar(many, { ...limits, maxEntries: 10 })]).toThrow(TarLimitError);
  });
});
