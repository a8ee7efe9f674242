// The one place formats become writers: each format's loader rules and writer, the default,
// and the fbc writer's files and validation warnings through the CatalogWriter port.
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../../lib/catalog/load-catalog.js';
import {
  createCatalogWriter,
  DEFAULT_INDEX_FORMAT,
  INDEX_FORMATS,
  isIndexFormat,
  loaderRulesFor,
} from '../../../lib/index/catalog-formats.js';
import { type CatalogOutput, writeCatalog } from '../../../lib/index/catalog-writer.js';
import { csv, fileTree, pkg } from '../catalog/manifest-builders.js';

const output: CatalogOutput = { writeFile: async () => {} };
const migratedAt = new Date(0);

describe('index formats', () => {
  it('lists the three formats with sqlite-v7 as the default', () => {
    expect(INDEX_FORMATS).toEqual(['sqlite-v7', 'sqlite', 'fbc']);
    expect(DEFAULT_INDEX_FORMAT).toBe('sqlite-v7');
    expect(isIndexFormat('sqlite')).toBe(true);
    expect(isIndexFormat('sqlite-v13')).toBe(false);
    expect(isIndexFormat(undefined)).toBe(false);
  });

  it('loads sqlite-v7 with the v1.8.0 rules and the modern formats with v1.26.5', () => {
    expect(INDEX_FORMATS.map(loaderRulesFor)).toEqual(['v1.8.0', 'v1.26.5', 'v1.26.5']);
  });

  it('gives each SQLite format a writer with its format and rules', async () => {
    for (const format of ['sqlite-v7', 'sqlite'] as const) {
      const writer = await createCatalogWriter(format, { output, migratedAt });
      expect([writer.format, writer.rules]).toEqual([format, loaderRulesFor(format)]);
    }
  });

  it('gives fbc the file-based catalog writer: configs/ and the serve cache through the output', async () => {
    const files = new Map<string, Uint8Array>();
    const out: CatalogOutput = { writeFile: async (p, data) => void files.set(p, data) };
    const writer = await createCatalogWriter('fbc', { output: out, migratedAt });
    expect([writer.format, writer.rules]).toEqual(['fbc', 'v1.26.5']);
    const catalog = loadCatalog(
      fileTree({
        'p/p.package.yaml': pkg('p', { stable: 'p.v1.0.0' }),
        'p/1.0.0/csv.yaml': csv('p.v1.0.0', { version: '1.0.0' }),
        'q/q.package.yaml': pkg('q', { stable: 'q.v1' }),
        'q/1/csv.yaml': csv('q.v1', { version: 'v1' }),
      }),
      { rules: 'v1.26.5' },
    );
    const result = await writeCatalog(writer, catalog);
    expect(result.totals).toEqual({ packages: 1, channels: 1, bundles: 1 });
    expect(result.counts).toEqual({ 'olm.package': 1, 'olm.channel': 1, 'olm.bundle': 1 });
    expect([...files.keys()]).toEqual([
      'configs/p/catalog.json',
      'cache/cache/p_stable_p.v1.0.0.json',
      'cache/cache/packages.json',
      'cache/digest',
    ]);
    expect(result.files.map((f) => f.path)).toEqual([...files.keys()]);
    // q's version is not semver: opm validate would refuse it, so it is left out, by name.
    expect((result as { problems?: unknown[] }).problems).toEqual([
      {
        subject: 'q',
        kind: 'package',
        message: expect.stringMatching(/^FbcBundleVersion: invalid package "q": bundle "q.v1"/),
      },
    ]);
  });
});
