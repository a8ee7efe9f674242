// The one place an index format is turned into a catalog writer and the loader rules it needs:
// `sqlite-v7` (operator-registry v1.8.0 / oc 4.5, the default), `sqlite` (schema 13 as
// v1.26.5 writes it) and `fbc` (the file-based catalog `opm migrate` v1.26.5 writes). Stages,
// the CLI and handlers ask here and never switch on a format themselves.
import type { LoaderRules } from '../catalog/model.js';
import type { CatalogOutput, CatalogWriter } from './catalog-writer.js';
import {
  FBC_OUTPUT_CACHE,
  FBC_OUTPUT_CONFIGS,
  FBC_RUN_CONFIG,
  fbcImageEntries,
} from './fbc-image.js';
import { loadSqlJs } from './sqljs.js';
import { DB_FILE, SQLITE_V7, SQLITE_V13, SqliteCatalogWriter } from './write-index.js';

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
    case 'fbc': {
      // Loaded here, not at the top: a SQLite build never needs the FBC encoder's modules.
      const { FbcCatalogWriter } = await import('./write-fbc.js');
      return new FbcCatalogWriter(options.output);
    }
  }
}

/** What a format's catalog image adds to the base: one layer and, for some, run settings. */
export interface CatalogImageContent<T> {
  /** Output paths (files) and prefixes (ending in '/') the layer is made of. */
  sources: string[];
  /** The layer's entries, in tar order: image path, mode, and data for files. */
  entries(outputs: ReadonlyArray<{ path: string; data: T }>): Array<{
    path: string;
    mode: number;
    data?: T;
  }>;
  /** config.Labels / Entrypoint / Cmd to set (FBC: as `opm generate dockerfile` does). */
  runConfig?: { labels: Record<string, string>; entrypoint: string[]; cmd: string[] };
  /** The history entry of the layer. */
  createdBy: string;
}

/**
 * The image side of a format: SQLite formats add `/bundles.db` (0644) as oc did and keep the
 * base's run settings; `fbc` adds /configs and the pre-built serve cache at /tmp/cache and
 * sets the configs label, Entrypoint and Cmd for `opm serve`.
 */
export function catalogImageContent<T>(format: IndexFormat): CatalogImageContent<T> {
  if (format === 'fbc')
    return {
      sources: [`${FBC_OUTPUT_CONFIGS}/`, `${FBC_OUTPUT_CACHE}/`],
      entries: (outputs) => fbcImageEntries(outputs),
      runConfig: FBC_RUN_CONFIG,
      createdBy: 'catalog-build: add /configs and /tmp/cache',
    };
  return {
    sources: [DB_FILE],
    entries: (outputs) =>
      outputs
        .filter((o) => o.path === DB_FILE)
        .map((o) => ({ path: DB_FILE, mode: 0o644, data: o.data })),
    createdBy: `catalog-build: add /${DB_FILE}`,
  };
}
