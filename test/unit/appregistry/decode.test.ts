// Decoding package blobs: placement exactly as upstream unpacked them (nested under the
// repository name with the tar's own folders, flattened rewritten under the package name),
// and every hostile blob ending in a named error (strict) or a warning naming the package.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { decodePackageBlob, decodePackageBlobStrict } from '../../../lib/appregistry/decode.js';
import { packPackage } from '../../../lib/appregistry/pack.js';
import { loadCatalog } from '../../../lib/catalog/load-catalog.js';
import {
  absolutePathBlob,
  deviceBlob,
  flattenedBlob,
  gz,
  gzipBomb,
  hardlinkBlob,
  manyEntriesBlob,
  nestedEntries,
  nonGzipBody,
  symlinkBlob,
  traversalBlob,
  truncatedGzip,
} from '../../fixtures/appregistry/blobs.js';
import { CORPUS, CORPUS_SKIP_REASON, HAVE_CORPUS } from '../../support/shared-corpus.js';

const text = (d: Uint8Array) => new TextDecoder().decode(d);
const paths = (r: { files: readonly { path: string }[] }) => r.files.map((f) => f.path);

describe('nested blobs', () => {
  it('keep the tar layout under the repository name, leading folder included (as upstream)', () => {
    const out = decodePackageBlobStrict(gz(nestedEntries('tmp1234')), 'demo-repo');
    expect(out.format).toBe('nested');
    expect(out.warnings).toEqual([]);
    expect(paths(out)).toEqual([
      'demo-repo/tmp1234/0.1.0/demo.v0.1.0.clusterserviceversion.yaml',
      'demo-repo/tmp1234/demo.package.yaml',
    ]);
    expect(text(out.files[1]!.data)).toContain('packageName: demo');
  });

  it('decode what packPackage packs back to the same files (paths and bytes)', () => {
    const segment = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,20}$/);
    fc.assert(
      fc.property(
        fc.uniqueArray(
          fc.array(segment, { minLength: 1, maxLength: 3 }).map((p) => p.join('/')),
          { minLength: 2, maxLength: 15 },
        ),
        fc.uint8Array({ maxLength: 300 }),
        (names, bytes) => {
          // A name that is also a folder of another name cannot exist on a disk: drop those.
          const files = names
            .filter((n) => !names.some((m) => m.startsWith(`${n}/`)))
            .map((n, i) => ({ path: n, data: bytes.subarray(0, i * 7) }));
          fc.pre(files.length >= 2);
          const out = decodePackageBlobStrict(packPackage(files), 'r');
          const got = new Map(out.files.map((f) => [f.path, Buffer.from(f.data).toString('hex')]));
          expect(got).toEqual(
            new Map(files.map((f) => [`r/${f.path}`, Buffer.from(f.data).toString('hex')])),
          );
        },
      ),
      { numRuns: 50 },
    );
  });

  it('packs deterministically (same files → same digest) and honours a courier-like prefix', () => {
    const files = [
      { path: 'b/x.yaml', data: new TextEncoder().encode('x') },
      { path: 'a.package.yaml', data: new TextEncoder().encode('p') },
    ];
    expect(
      Buffer.from(packPackage(files)).equals(Buffer.from(packPackage([...files].reverse()))),
    ).toBe(true);
    expect(paths(decodePackageBlobStrict(packPackage(files, { prefix: 'tmpq' }), 'r'))).toEqual([
      'r/tmpq/a.package.yaml',
      'r/tmpq/b/x.yaml',
    ]);
  });
});

describe('flattened blobs', () => {
  const fixture = path.join(
    CORPUS,
    'operator-registry-v1.8.0/pkg/appregistry/testdata/flattened/descheduler-bundle.yaml',
  );

  it.skipIf(!HAVE_CORPUS || !existsSync(fixture))(
    `decode the upstream descheduler fixture and load it ${HAVE_CORPUS ? '' : CORPUS_SKIP_REASON}`,
    () => {
      const source = readFileSync(fixture);
      const out = decodePackageBlobStrict(flattenedBlob(source), 'descheduler-repo');
      expect(out.format).toBe('flattened');
      expect(out.warnings).toEqual([]);
      // Named after the package, not the repository, exactly as upstream's flattened processor.
      expect(paths(out)).toEqual([
        'descheduler/Descheduler-v1alpha1.crd.yaml',
        'descheduler/descheduler.package.yaml',
        'descheduler/descheduler.v0.0.1.clusterserviceversion.yaml',
      ]);
      const original = yaml.load(source.toString()) as { data: Record<string, string> };
      const originalCsv = (
        yaml.load(original.data['clusterServiceVersions']!) as Record<string, unknown>[]
      )[0]!;
      const csv = yaml.load(text(out.files[2]!.data)) as Record<string, Record<string, unknown>>;
      expect(csv['kind']).toBe('ClusterServiceVersion');
      expect(csv['metadata']!['name']).toBe('descheduler.v0.0.1');
      expect(csv['metadata']!['creationTimestamp']).toBeNull();
      expect(csv['spec']).toEqual(originalCsv['spec']);
      expect(yaml.load(text(out.files[1]!.data))).toEqual({
        channels: [{ currentCSV: 'descheduler.v0.0.1', name: 'alpha' }],
        defaultChannel: '',
        packageName: 'descheduler',
      });
      // And the lead's loader takes the result as a catalog: one package, one bundle.
      const catalog = loadCatalog(out.files);
      expect(catalog.packages.map((p) => p.name)).toEqual(['descheduler']);
      expect(catalog.bundles.map((b) => b.name)).toEqual(['descheduler.v0.0.1']);
    },
  );

  it('refuses a bundle.yaml without packages, and names that would escape the folder', () => {
    const noPackages = 'data:\n  clusterServiceVersions: "[]"\n';
    expect(() => decodePackageBlobStrict(flattenedBlob(noPackages), 'r')).toThrow(
      /decoding package r: .*no packages found/,
    );
    const escaping = 'data:\n  packages: |\n    - packageName: ../../etc\n';
    expect(() => decodePackageBlobStrict(flattenedBlob(escaping), 'r')).toThrowError(
      expect.objectContaining({ name: 'AppRegistryUnsafeEntryError' }),
    );
    const badKind = `data:\n  packages: "[{packageName: p}]"\n  customResourceDefinitions: |\n    - spec: {names: {kind: "a/../../b"}, version: v1}\n`;
    expect(() => decodePackageBlobStrict(flattenedBlob(badKind), 'r')).toThrowError(
      expect.objectContaining({ name: 'AppRegistryUnsafeEntryError' }),
    );
  });

  it('warns (does not fail) for a blob with no regular file at all', () => {
    const out = decodePackageBlob(gz([{ name: 'empty/', type: 'dir' }]), 'hollow');
    expect(out.files).toEqual([]);
    expect(out.warnings).toEqual([
      expect.stringMatching(/^decoding package hollow: the blob holds no regular file/),
    ]);
  });
});

describe('hostile blobs', () => {
  const cases: [string, () => Uint8Array, string, RegExp][] = [
    [
      'path traversal',
      traversalBlob,
      'AppRegistryUnsafeEntryError',
      /leaves the package directory/,
    ],
    ['absolute path', absolutePathBlob, 'AppRegistryUnsafeEntryError', /absolute path/],
    [
      'gzip bomb (1 GiB of zeros in 1 MiB)',
      () => gzipBomb(64),
      'AppRegistryBlobLimitError',
      /uncompressed size exceeds/,
    ],
    [
      '100k tiny entries',
      () => manyEntriesBlob(100_000),
      'AppRegistryBlobLimitError',
      /more than 10000 entries/,
    ],
    ['truncated gzip', truncatedGzip, 'AppRegistryBlobError', /gzip data is truncated/],
    [
      'non-gzip body',
      nonGzipBody,
      'AppRegistryBlobError',
      /not gzip data \(starts with 3c68746d\)/,
    ],
  ];
  for (const [label, make, name, message] of cases) {
    it(`${label}: strict → ${name}; lenient → a warning naming the package and no files`, () => {
      const blob = make();
      let thrown: Error | undefined;
      try {
        decodePackageBlobStrict(blob, 'evil');
      } catch (err) {
        thrown = err as Error;
      }
      expect(thrown?.name).toBe(name);
      expect(thrown?.message).toMatch(/^decoding package evil: /);
      expect(thrown?.message).toMatch(message);
      const out = decodePackageBlob(blob, 'evil');
      expect(out.files).toEqual([]);
      expect(out.error?.name).toBe(name);
      expect(out.warnings).toHaveLength(1);
      expect(out.warnings[0]).toMatch(/^decoding package evil: .*the package contributes nothing/);
    });
  }

  for (const [label, make, kind] of [
    ['symlink', symlinkBlob, 'symlink'],
    ['hardlink', hardlinkBlob, 'hardlink'],
    ['device', deviceBlob, 'block-device'],
  ] as const) {
    it(`${label}: never extracted; a warning names the package and the entry; the rest loads`, () => {
      const out = decodePackageBlobStrict(make(), 'linky');
      expect(paths(out)).toEqual([
        'linky/tmp1234/0.1.0/demo.v0.1.0.clusterserviceversion.yaml',
        'linky/tmp1234/demo.package.yaml',
      ]);
      expect(out.warnings).toEqual([
        expect.stringMatching(
          new RegExp(`^decoding package linky: skipped ${kind} "tmp1234/0.1.0/`),
        ),
      ]);
    });
  }

  it('caps per-file and total sizes', () => {
    const big = gz([...nestedEntries(), { name: 'tmp1234/big.yaml', data: 'x'.repeat(5000) }]);
    expect(() => decodePackageBlobStrict(big, 'r', { maxFileBytes: 4096 })).toThrow(
      /has 5000 bytes, over the 4096-byte cap/,
    );
    expect(() => decodePackageBlobStrict(big, 'r', { maxTotalBytes: 4096 })).toThrow(
      /files hold more than 4096 bytes/,
    );
    expect(() =>
      decodePackageBlobStrict(big, 'r', { maxTotalBytes: 1024, maxEntries: 10 }),
    ).toThrowError(expect.objectContaining({ name: 'AppRegistryBlobLimitError' }));
  });

  it('refuses a name that is both a file and a folder, and a repository name with a slash', () => {
    const clash = gz([...nestedEntries(), { name: 'tmp1234/0.1.0', data: 'x' }]);
    expect(() => decodePackageBlobStrict(clash, 'r')).toThrow(/both a file and a directory/);
    expect(() => decodePackageBlobStrict(gz(nestedEntries()), '../r')).toThrowError(
      expect.objectContaining({ name: 'AppRegistryUnsafeEntryError' }),
    );
  });
});
