// The bounded FBC writer (FbcCatalogWriter: bundles held as encoded parts, packages written one
// at a time, the serve cache made in its tree's order) against writeFbc over the whole catalog:
// the same files with the same bytes, in the same order (the digest written last). Names are chosen so that the cache
// files of different packages interleave ("a-b_…" sorts before "a_…", "a_x" channel names
// collide with package names), with a deprecated bundle, an icon, a package opm validate
// refuses, and held parts deflated from the first bundle on; then the dev corpus when present.
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../../lib/catalog/load-catalog.js';
import type { LoadedCatalog } from '../../../lib/catalog/model.js';
import { writeCatalog } from '../../../lib/index/catalog-writer.js';
import { FbcCatalogWriter, fbcOutputFiles, writeFbc } from '../../../lib/index/write-fbc.js';
import { readManifestDir } from '../../../lib/store/manifest-dir.js';
import { CORPUS, CORPUS_SKIP_REASON, HAVE_CORPUS } from '../../support/shared-corpus.js';
import { csv, fileTree, pkg } from '../catalog/manifest-builders.js';

async function bounded(catalog: LoadedCatalog, deflateAfterBytes?: number) {
  const written: { path: string; data: Uint8Array }[] = [];
  const writer = new FbcCatalogWriter(
    {
      async writeFile(path, data) {
        written.push({ path, data });
      },
    },
    deflateAfterBytes === undefined ? {} : { deflateAfterBytes },
  );
  const result = await writeCatalog(writer, catalog);
  const byPath = new Map(written.map((f) => [f.path, f.data]));
  expect(byPath.size).toBe(written.length);
  return { result, files: result.files.map((f) => ({ path: f.path, data: byPath.get(f.path)! })) };
}

function expectSameAsWhole(catalog: LoadedCatalog, got: Awaited<ReturnType<typeof bounded>>): void {
  const whole = writeFbc(catalog);
  // The same files in the same order, but the digest, which the bounded writer writes last.
  const digestLast = <T extends { path: string }>(files: T[]) => [
    ...files.filter((f) => f.path !== 'cache/digest'),
    ...files.filter((f) => f.path === 'cache/digest'),
  ];
  const want = digestLast(fbcOutputFiles(whole));
  expect(got.files.map((f) => f.path)).toEqual(want.map((f) => f.path));
  for (const [i, f] of want.entries())
    expect(Buffer.from(got.files[i]!.data).equals(Buffer.from(f.data)), f.path).toBe(true);
  expect(got.result.totals).toEqual(whole.counts);
  expect(got.result.problems?.map((p) => p.message)).toEqual(
    whole.violations.map((v) => `${v.rule}: ${v.message}`),
  );
}

const ICON = { base64data: Buffer.from('<svg/>').toString('base64'), mediatype: 'image/svg+xml' };

function tricky(): LoadedCatalog {
  const withIcon = { ...csv('a.v2', { version: '2.0.0', replaces: 'a.v1' }) };
  (withIcon.spec as Record<string, unknown>).icon = [ICON];
  const deprecated = csv('ab.v1', { version: '1.0.0' });
  (deprecated.metadata as Record<string, unknown>).annotations = {
    'olm.properties': '[{"type":"olm.deprecated","value":{}}]',
  };
  return loadCatalog(
    fileTree({
      'a/a.package.yaml': pkg('a', { x_y: 'a.v2', x: 'a.v2' }, 'x'),
      'a/1/a.v1.clusterserviceversion.yaml': csv('a.v1', { version: '1.0.0' }),
      'a/2/a.v2.clusterserviceversion.yaml': withIcon,
      'a-b/a-b.package.yaml': pkg('a-b', { y: 'ab.v2' }),
      'a-b/1/ab.v1.clusterserviceversion.yaml': deprecated,
      'a-b/2/ab.v2.clusterserviceversion.yaml': csv('ab.v2', {
        version: '2.0.0',
        skips: ['ab.v1'],
      }),
      'a_x/a_x.package.yaml': pkg('a_x', { y: 'ax.v1' }),
      'a_x/1/ax.v1.clusterserviceversion.yaml': csv('ax.v1', { version: '1.0.0' }),
      'bad/bad.package.yaml': pkg('bad', { stable: 'bad.v1' }),
      'bad/1/bad.v1.clusterserviceversion.yaml': csv('bad.v1', { version: 'v1' }),
      'packagez/packagez.package.yaml': pkg('packagez', { s: 'z.v1' }),
      'packagez/1/z.v1.clusterserviceversion.yaml': csv('z.v1', { version: '1.0.0' }),
    }),
    { rules: 'v1.26.5' },
  );
}

describe('FbcCatalogWriter (bounded) writes what writeFbc writes', () => {
  it('interleaving cache names, a deprecated bundle, an icon, a refused package', async () => {
    const catalog = tricky();
    const got = await bounded(catalog, 0);
    expectSameAsWhole(catalog, got);
    const paths = got.files.map((f) => f.path);
    // The case the order matters for: a-b's cache files come before a's.
    expect(paths.indexOf('cache/cache/a-b_y_ab.v2.json')).toBeLessThan(
      paths.indexOf('cache/cache/a_x_a.v2.json'),
    );
    expect(paths).toContain('cache/cache/a_x_y_ax.v1.json');
    expect(paths).not.toContain('configs/bad/catalog.json');
    expect(got.result.problems?.some((p) => p.subject === 'bad')).toBe(true);
    const a = new TextDecoder().decode(
      got.files.find((f) => f.path === 'configs/a/catalog.json')!.data,
    );
    expect(a).toContain(ICON.base64data);
    // Without deflating (the default threshold): the same bytes again.
    expectSameAsWhole(catalog, await bounded(catalog));
  });

  it.skipIf(!HAVE_CORPUS)(
    'the dev corpus, held parts deflated or not',
    async () => {
      const catalog = loadCatalog(await readManifestDir(`${CORPUS}/packages`), {
        rules: 'v1.26.5',
      });
      expectSameAsWhole(catalog, await bounded(catalog, 0));
    },
    120_000,
  );
  if (!HAVE_CORPUS) it.skip(CORPUS_SKIP_REASON, () => {});
});
