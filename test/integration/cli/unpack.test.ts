// `--appregistry-org ORG --manifest-dir DIR` against our App Registry server, on real files:
// DIR ends up holding exactly what the decoder makes of every served blob (nothing lost,
// nothing duplicated, nothing beside or outside it), a user's other files in an existing DIR
// are left alone while the downloaded paths are replaced, and a package that does not fit an
// existing DIR fails before anything in it is moved, leaving no staging directory behind.
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePackageBlob } from '../../../lib/appregistry/decode.js';
import { packPackage } from '../../../lib/appregistry/pack.js';
import { type AppRegistryServer, startAppRegistryServer } from '../../../lib/appregistry/server.js';
import { flattenedBlob, symlinkBlob, traversalBlob } from '../../fixtures/appregistry/blobs.js';
import { hostileRoot } from '../../support/hostile-harness.js';
import { REPO_ROOT } from '../../support/shared-corpus.js';

const TOKEN = 'unpack-token-5678efgh';
const EXAMPLES = path.join(REPO_ROOT, 'examples', 'manifests');
const enc = (t: string) => new TextEncoder().encode(t);
const harness = hostileRoot('cli-unpack');
let server: AppRegistryServer;

/** Every regular file below `dir`, as relative '/'-paths with their bytes (links fail). */
function tree(dir: string, rel = '', out = new Map<string, Buffer>()): Map<string, Buffer> {
  for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const child = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) tree(dir, child, out);
    else if (e.isFile()) out.set(child, readFileSync(path.join(dir, child)));
    else throw new Error(`${child} is neither a file nor a directory`);
  }
  return out;
}

/** What the decoder makes of every served blob (no two of these packages share a path). */
function expectedTree(): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const p of server.packages.values())
    for (const f of decodePackageBlob(p.blob, p.repository).files)
      if (out.has(f.path)) throw new Error(`${f.path} is in two packages`);
      else out.set(f.path, Buffer.from(f.data));
  return out;
}

beforeAll(async () => {
  // Many small packages (so the bounded fan-out has several rounds), one with its files in
  // a leading folder, one flattened, and hostile ones that must contribute nothing.
  const many = Array.from({ length: 23 }, (_, i) => ({
    repository: `many-${String(i).padStart(2, '0')}`,
    blob: packPackage([
      { path: `many-${i}.package.yaml`, data: enc(`packageName: many-${i}\n`) },
      { path: `0.${i}.0/many.v0.${i}.0.clusterserviceversion.yaml`, data: enc(`n: ${i}\n`) },
      { path: `0.${i}.0/deep/er/crd-${i}.yaml`, data: enc(`kind: CRD\nn: ${i}\n`) },
    ]),
  }));
  server = await startAppRegistryServer({
    dir: EXAMPLES,
    org: 'demo',
    token: TOKEN,
    extraPackages: [
      ...many,
      {
        repository: 'flat',
        blob: flattenedBlob(
          'data:\n  packages: |\n    - packageName: flatpkg\n      defaultChannel: stable\n      channels:\n      - name: stable\n        currentCSV: flat.v1\n',
        ),
      },
      { repository: 'escape', blob: traversalBlob() },
      { repository: 'linked', blob: symlinkBlob() },
    ],
  });
});
afterAll(async () => {
  await server?.stop();
  harness.expectNothingOutside();
  harness.cleanup();
});

const build = (c: { work: string; store: string }, dir: string) => [
  '--appregistry-org',
  'demo',
  '--appregistry-endpoint',
  server.url,
  '--auth-token',
  TOKEN,
  '--manifest-dir',
  dir,
  '--to-db',
  path.join(c.work, 'db', 'index.db'),
  '--store',
  c.store,
];

describe('--appregistry-org with --manifest-dir', () => {
  it('unpacks exactly the decoded files of every package into a new DIR, nothing beside it', async () => {
    const c = harness.newCase('new-dir');
    const out = path.join(c.work, 'out', 'manifests');
    const run = await c.run(build(c, out));
    expect(run.code, run.stderr).toBe(0);
    const expected = expectedTree();
    // The sample packages, the many, the flattened one; the traversal and link blobs' safe
    // files are their own package folder only.
    expect(expected.size).toBeGreaterThan(23 * 3);
    const got = tree(out);
    expect([...got.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [p, data] of expected) expect(got.get(p)?.equals(data), p).toBe(true);
    expect(readdirSync(path.dirname(out))).toEqual(['manifests']);
    expect(
      readdirSync(c.work)
        .filter((n) => n !== 'cache')
        .sort(),
    ).toEqual(['db', 'out', 'store']);
    // Nothing escaped: the traversal blob contributed no file anywhere.
    expect(
      [...tree(c.work).keys()].filter((p) => p.endsWith('escape.yaml') || p.endsWith('passwd')),
    ).toEqual([]);
  });

  it("into an existing DIR: the downloaded paths are replaced, the user's other files kept", async () => {
    const c = harness.newCase('existing-dir');
    const out = path.join(c.work, 'manifests');
    mkdirSync(path.join(out, 'many-05', 'mine'), { recursive: true });
    writeFileSync(path.join(out, 'README.txt'), 'my notes\n');
    writeFileSync(path.join(out, 'many-05', 'mine', 'keep.yaml'), 'keep: me\n');
    writeFileSync(path.join(out, 'many-05', 'many-5.package.yaml'), 'stale: true\n');
    const kept = statSync(path.join(out, 'README.txt')).mtimeMs;
    const run = await c.run(build(c, out));
    expect(run.code, run.stderr).toBe(0);
    const expected = expectedTree();
    expected.set('README.txt', Buffer.from('my notes\n'));
    expected.set('many-05/mine/keep.yaml', Buffer.from('keep: me\n'));
    const got = tree(out);
    expect([...got.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [p, data] of expected) expect(got.get(p)?.equals(data), p).toBe(true);
    expect(statSync(path.join(out, 'README.txt')).mtimeMs).toBe(kept);
    expect(readdirSync(c.work).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('a package that does not fit an existing DIR: ManifestUnpackError, DIR untouched', async () => {
    const c = harness.newCase('no-fit');
    const out = path.join(c.work, 'manifests');
    mkdirSync(out, { recursive: true });
    // A file where the package many-17 needs its version folder.
    mkdirSync(path.join(out, 'many-17'));
    writeFileSync(path.join(out, 'many-17', '0.17.0'), 'in the way\n');
    writeFileSync(path.join(out, 'README.txt'), 'my notes\n');
    const before = tree(out);
    const run = await c.run(build(c, out));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /error: unpacking the downloaded manifests to .*: many-17\/0\.17\.0 must be a directory, but a file of that name exists/,
    );
    expect(tree(out)).toEqual(before);
    expect(readdirSync(c.work).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });
});
