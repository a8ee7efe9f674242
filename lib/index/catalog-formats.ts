// The one place an index format is turned into a catalog writer and the loader rules it needs:
// `sqlite-v7` (operator-registry v1.8.0 / oc 4.5, the default), `sqlite` (schema 13 as
// v1.26.5 writes it) and `fbc` (the file-based catalog `opm migrate` v1.26.5 writes). Stages,
// the CLI and handlers ask here and never switch on a format themselves.
import type { LoaderRules } from '../catalog/model.js';
import type { CatalogOutput, CatalogWriter } from './catalog-writer.js';
import { loadSqlJs } from './sqljs.js';
import { FbcCatalogWriter } from './write-fbc.js';
import { SQLITE_V7, SQLITE_V13, SqliteCatalogWriter } from './write-index.js';

export const INDEX_FORMATS = ['sqlite-v7', 'sqlite', 'fbc'] as const;
export type IndexFormat = (typeof INDEX_FORMATS)[number];
/** oc 4.5 fidelity stays the default: improvements never go silently into the default output. */
export const DEFAULT_INDEX_FORMAT: IndexFormat = 'sqlite-v7';

export function isIndexFormat(value: unknown): value is IndexFormat {
  return typeof value === 'string' && (INDEX_FORMATS as readonly string[]).includes(value);
}

/** Whose loader rules a format's catalog is loaded with. */
export function loaderRulesFor(format: IndexFormat): LoaderRules {
  return format === 'sqlite-v7' ? 'v1.8.0' : 'v1.26.5';
}

/** Whether the format's output is one SQLite database file (`bundles.db`). */
export function isSqliteFormat(format: IndexFormat): boolean {
  return format === 'sqlite-v7' || format === 'sqlite';
}

export interface CatalogWriterOptions {
  output: CatalogOutput;
  /** schema_migrations.timestamp (SQLite); fixed by SOURCE_DATE_EPOCH for reproducible builds. */
  migratedAt: Date;
}

export async function createCatalogWriter(
  format: IndexFormat,
  options: CatalogWriterOptions,
): Promise<CatalogWriter> {
  switch (format) {
    case 'sqlite-v7':
    case 'sqlite':
      return new SqliteCatalogWriter(await loadSqlJs(), options.output, {
        migratedAt: options.migratedAt,
        schema: format === 'sqlite' ? SQLITE_V13 : SQLITE_V7,
      });
    case 'fbc':
      return new FbcCatalogWriter(options.output);
  }
}
