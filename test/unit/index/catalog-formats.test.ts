// The one place formats become writers: each format's loader rules and writer, the default,
// and `fbc` refused by name while this build has no file-based catalog writer.
import { describe, expect, it } from 'vitest';
import {
  createCatalogWriter,
  DEFAULT_INDEX_FORMAT,
  INDEX_FORMATS,
  IndexFormatUnavailableError,
  isIndexFormat,
  loaderRulesFor,
} from '../../../lib/index/catalog-formats.js';
import type { CatalogOutput } from '../../../lib/index/catalog-writer.js';

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

  it('refuses fbc with a named usage error until its writer exists', async () => {
    await expect(createCatalogWriter('fbc', { output, migratedAt })).rejects.toThrow(
      IndexFormatUnavailableError,
    );
    await expect(createCatalogWriter('fbc', { output, migratedAt })).rejects.toMatchObject({
      name: 'IndexFormatUnavailableError',
      message: expect.stringMatching(/^writing the fbc catalog: /),
    });
  });
});
