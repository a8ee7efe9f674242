// The serve cache and its digest, checked against what opm v1.26.5 `serve --cache-only` wrote
// for the reference FBC of both dev sets: every file byte-identical and the same digest. The
// digest is also shown to depend on modes and content, as opm's integrity check does.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readFbc } from '../../../lib/index/fbc-read.js';
import { buildServeCache } from '../../../lib/index/fbc-serve-cache.js';
import { Fnv1a64, hashTree, serveCacheDigest, treeOf } from '../../../lib/index/go-tar-fnv.js';
import { CORPUS, CORPUS_SKIP_REASON, HAVE_CORPUS } from '../../support/shared-corpus.js';

const EXPECTED = path.join(CORPUS, 'expected');

function configsOf(dir: string) {
  const files = readdirSync(dir)
    .sort()
    .map((p) => ({
      path: `${p}/catalog.json`,
      data: readFileSync(path.join(dir, p, 'catalog.json')),
    }));
  return files;
}

describe('FNV-1a 64', () => {
  it('matches the published test vectors', () => {
    expect(new Fnv1a64().hex()).toBe('cbf29ce484222325');
    expect(new Fnv1a64().update(new TextEncoder().encode('a')).hex()).toBe('af63dc4c8601ec8c');
    expect(new Fnv1a64().update(new TextEncoder().encode('foobar')).hex()).toBe('85944171f73967e8');
  });
});

describe('serve cache digest', () => {
  const file = [{ path: 'p/catalog.json', data: new TextEncoder().encode('{}\n') }];
  const cache = treeOf([{ path: 'packages.json', data: new Uint8Array([0x7b, 0x7d]) }], {
    dir: 0o750,
    file: 0o640,
  });
  it('changes with the modes of the configs tree', () => {
    const a = serveCacheDigest(treeOf(file, { dir: 0o755, file: 0o644 }), cache);
    const b = serveCacheDigest(treeOf(file, { dir: 0o755, file: 0o600 }), cache);
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(a).not.toBe(b);
  });
  it('changes with a file content', () => {
    const other = [{ path: 'p/catalog.json', data: new TextEncoder().encode('{ }\n') }];
    expect(serveCacheDigest(treeOf(file, { dir: 0o755, file: 0o644 }), cache)).not.toBe(
      serveCacheDigest(treeOf(other, { dir: 0o755, file: 0o644 }), cache),
    );
  });
});

describe.skipIf(!HAVE_CORPUS)('serve cache of the reference FBC', () => {
  if (!HAVE_CORPUS) console.warn(CORPUS_SKIP_REASON);
  for (const set of ['packages', 'operator-registry-manifests']) {
    it(`is what opm v1.26.5 wrote for ${set}`, () => {
      const configsDir = path.join(EXPECTED, `opm-v1.26.5-migrate.${set}`);
      const expectedDir = path.join(EXPECTED, `opm-v1.26.5-serve-cache.${set}`);
      const configs = configsOf(configsDir);
      const catalog = readFbc(configs.map((f) => f.data.toString('utf8')));
      const cache = buildServeCache(catalog, treeOf(configs, { dir: 0o755, file: 0o644 }));
      const expectedNames = readdirSync(path.join(expectedDir, 'cache')).sort();
      const ours = cache.files.filter((f) => f.path.startsWith('cache/'));
      expect(ours.map((f) => f.path.slice(6)).sort()).toEqual(expectedNames);
      for (const f of ours) {
        const want = readFileSync(path.join(expectedDir, f.path), 'utf8');
        expect(Buffer.from(f.data).toString('utf8'), f.path).toBe(want);
      }
      expect(cache.digest).toBe(readFileSync(path.join(expectedDir, 'digest'), 'utf8'));
      expect(cache.files[0]?.path).toBe('digest');
    });
  }
});

describe('the tar stream under the digest', () => {
  it('is a tar GNU tar reads back: USTAR names, a PAX path for a long name, modes and sizes', () => {
    const long = `${'p'.repeat(40)}_${'c'.repeat(20)}_${'b'.repeat(60)}.json`;
    const files = [
      { path: 'short.json', data: new TextEncoder().encode('{"a":1}') },
      { path: long, data: new TextEncoder().encode('x'.repeat(600)) },
      { path: `${'d'.repeat(60)}/${'e'.repeat(60)}.json`, data: new Uint8Array(3) },
    ];
    const chunks: Uint8Array[] = [];
    hashTree(
      { update: (b: Uint8Array) => chunks.push(Uint8Array.from(b)) },
      treeOf(files, { dir: 0o750, file: 0o640 }),
    );
    const dir = mkdtempSync(path.join(os.tmpdir(), 'go-tar-'));
    try {
      const tar = path.join(dir, 'stream.tar');
      writeFileSync(tar, Buffer.concat(chunks));
      const listing = execFileSync('tar', ['--numeric-owner', '--utc', '-tvf', tar], {
        encoding: 'utf8',
      })
        .trim()
        .split('\n')
        .map((l) => l.split(/\s+/));
      // mode, owner, size, date, time, name
      expect(listing.map((f) => [f[0], f[1], f[2], f[5]])).toEqual([
        ['drwxr-x---', '0/0', '0', '.'],
        ['drwxr-x---', '0/0', '0', `${'d'.repeat(60)}`],
        ['-rw-r-----', '0/0', '3', `${'d'.repeat(60)}/${'e'.repeat(60)}.json`],
        ['-rw-r-----', '0/0', '600', long],
        ['-rw-r-----', '0/0', '7', 'short.json'],
      ]);
      expect(listing.every((f) => f[3] === '1970-01-01' && f[4] === '00:00')).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
