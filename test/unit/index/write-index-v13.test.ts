// The schema-13 SQLite writer (`--index-format sqlite`), through the CatalogWriter port: the
// DDL byte-equal to what a v1.26.5 DB's sqlite_master holds (../shared/reference/schema-v13.sql
// when present), the storage classes modern-olm.md §1.2 lists (properties.value TEXT,
// dependencies.value BLOB, substitutesfor '', NULL versions when '' and NULL paths), the
// olm.package rows of the package walk, and reproducible bytes.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Database, SqlJsStatic } from 'sql.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../../lib/catalog/load-catalog.js';
import {
  type CatalogOutput,
  type CatalogWriteResult,
  writeCatalog,
} from '../../../lib/index/catalog-writer.js';
import { SCHEMA_V13 } from '../../../lib/index/schema-v13.js';
import { loadSqlJs } from '../../../lib/index/sqljs.js';
import {
  IndexWriteError,
  SQLITE_V13,
  SqliteCatalogWriter,
} from '../../../lib/index/write-index.js';
import { SHARED } from '../../support/shared-corpus.js';
import { crd, csv, fileTree, pkg } from '../catalog/manifest-builders.js';

const REFERENCE_SCHEMA = path.join(SHARED, 'reference', 'schema-v13.sql');
const MIGRATED_AT = new Date('2023-03-01T00:00:00Z');

class MemoryOutput implements CatalogOutput {
  readonly files = new Map<string, { data: Uint8Array; contentType: string }>();
  async writeFile(p: string, data: Uint8Array, contentType: string): Promise<void> {
    this.files.set(p, { data, contentType });
  }
}

function tree() {
  const noVersion = csv('n.v1', {
    required: [{ name: 'widgets.example.com', version: 'v1', kind: 'Widget' }],
  });
  return fileTree({
    'w/1/crd.yaml': crd(
      'widgets',
      'example.com',
      'Widget',
      ['v1', 'v2'],
      'apiextensions.k8s.io/v1',
    ),
    'w/1/csv.yaml': csv('w.v1', { version: '1.0.0' }),
    'w/2/crd.yaml': crd('widgets', 'example.com', 'Widget', ['v2'], 'apiextensions.k8s.io/v1'),
    'w/2/csv.yaml': csv('w.v2', {
      version: '2.0.0',
      replaces: 'w.v1',
      required: [{ name: 'gadgets.example.com', version: 'v1', kind: 'Gadget' }],
    }),
    'w/package.yaml': pkg('w', { stable: 'w.v2', old: 'w.v1' }, 'stable'),
    'n/1/csv.yaml': noVersion,
    'n/package.yaml': pkg('n', { alpha: 'n.v1' }),
  });
}

async function build(
  SQL: SqlJsStatic,
): Promise<{ output: MemoryOutput; result: CatalogWriteResult }> {
  const output = new MemoryOutput();
  const writer = new SqliteCatalogWriter(SQL, output, {
    migratedAt: MIGRATED_AT,
    schema: SQLITE_V13,
  });
  const result = await writeCatalog(writer, loadCatalog(tree(), { rules: 'v1.26.5' }));
  return { output, result };
}

function query(db: Database, sql: string): unknown[][] {
  return db.exec(sql)[0]?.values ?? [];
}

let SQL: SqlJsStatic;
let db: Database;
let result: CatalogWriteResult;
let bytes: Uint8Array;
beforeAll(async () => {
  SQL = await loadSqlJs();
  const built = await build(SQL);
  result = built.result;
  const file = built.output.files.get('bundles.db');
  if (!file) throw new Error('no bundles.db written');
  expect(file.contentType).toBe('application/vnd.sqlite3');
  bytes = file.data;
  db = new SQL.Database(bytes);
});

describe('schema 13', () => {
  it('holds the v1.26.5 DDL, statement for statement, in sqlite_master order', () => {
    const stored = query(
      db,
      'SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid',
    ).map((r) => r[0] as string);
    // SQLite drops IF NOT EXISTS when it stores a CREATE TABLE; the rest is the text as given.
    expect(stored).toEqual(
      SCHEMA_V13.map((s) => s.replace('CREATE TABLE IF NOT EXISTS ', 'CREATE TABLE ')),
    );
    expect(query(db, 'SELECT version FROM schema_migrations')).toEqual([[13]]);
  });

  it.skipIf(!existsSync(REFERENCE_SCHEMA))(
    'prints as the reference .schema (sqlite3 shows quoted names as CREATE TABLE IF NOT EXISTS)',
    () => {
      const reference = readFileSync(REFERENCE_SCHEMA, 'utf8')
        .split('\n')
        .filter((l) => !l.startsWith('--'))
        .join('\n');
      const printed = query(
        db,
        'SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid',
      )
        .map((r) => {
          const s = r[0] as string;
          return /^CREATE TABLE ['"]/.test(s)
            ? `CREATE TABLE IF NOT EXISTS ${s.slice(13)};`
            : `${s};`;
        })
        .join('\n');
      expect(`${printed}\n`).toBe(reference);
    },
  );
});

describe('rows and storage classes', () => {
  it("stores substitutesfor as text '' and csv/bundle as BLOBs", () => {
    expect(
      query(
        db,
        'SELECT name, typeof(substitutesfor), substitutesfor, typeof(csv), typeof(bundle) FROM operatorbundle ORDER BY name',
      ),
    ).toEqual([
      ['n.v1', 'text', '', 'blob', 'blob'],
      ['w.v1', 'text', '', 'blob', 'blob'],
      ['w.v2', 'text', '', 'blob', 'blob'],
    ]);
  });

  it('stores properties as TEXT with NULL path and NULL version when the version is empty', () => {
    expect(
      query(
        db,
        'SELECT type, typeof(value), value, operatorbundle_name, operatorbundle_version, operatorbundle_path FROM properties ORDER BY operatorbundle_name, type, value',
      ),
    ).toEqual([
      ['olm.package', 'text', '{"packageName":"n","version":""}', 'n.v1', null, null],
      [
        'olm.gvk',
        'text',
        '{"group":"example.com","kind":"Widget","version":"v1"}',
        'w.v1',
        '1.0.0',
        null,
      ],
      [
        'olm.gvk',
        'text',
        '{"group":"example.com","kind":"Widget","version":"v2"}',
        'w.v1',
        '1.0.0',
        null,
      ],
      // w.v1 is a chain node of both channels: two identical rows.
      ['olm.package', 'text', '{"packageName":"w","version":"1.0.0"}', 'w.v1', '1.0.0', null],
      ['olm.package', 'text', '{"packageName":"w","version":"1.0.0"}', 'w.v1', '1.0.0', null],
      [
        'olm.gvk',
        'text',
        '{"group":"example.com","kind":"Widget","version":"v2"}',
        'w.v2',
        '2.0.0',
        null,
      ],
      ['olm.package', 'text', '{"packageName":"w","version":"2.0.0"}', 'w.v2', '2.0.0', null],
    ]);
  });

  it('stores dependencies as BLOBs of compact JSON, one per required API', () => {
    const deps = query(
      db,
      'SELECT type, typeof(value), CAST(value AS TEXT), operatorbundle_name, operatorbundle_version, operatorbundle_path FROM dependencies ORDER BY operatorbundle_name',
    );
    expect(deps).toEqual([
      [
        'olm.gvk',
        'blob',
        '{"group":"example.com","kind":"Widget","version":"v1"}',
        'n.v1',
        null,
        null,
      ],
      [
        'olm.gvk',
        'blob',
        '{"group":"example.com","kind":"Gadget","version":"v1"}',
        'w.v2',
        '2.0.0',
        null,
      ],
    ]);
    // The api tables are as in schema 7: the required APIs are in api_requirer too.
    expect(query(db, 'SELECT count(*) FROM api_requirer')).toEqual([[2]]);
    expect(query(db, 'SELECT count(*) FROM deprecated')).toEqual([[0]]);
  });

  it('reports rows per table and the three totals', () => {
    expect(result.format).toBe('sqlite');
    expect(result.counts).toMatchObject({
      package: 2,
      channel: 3,
      operatorbundle: 3,
      properties: 7,
      dependencies: 2,
      deprecated: 0,
    });
    expect(result.totals).toEqual({ packages: 2, channels: 3, bundles: 3 });
    expect(result.files).toEqual([
      {
        path: 'bundles.db',
        size: bytes.length,
        digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      },
    ]);
  });
});

describe('the writer port', () => {
  it('gives byte-identical files for the same catalog and timestamp', async () => {
    const again = await build(SQL);
    expect(
      Buffer.from(again.output.files.get('bundles.db')?.data ?? []).equals(Buffer.from(bytes)),
    ).toBe(true);
    expect(again.result.files).toEqual(result.files);
  });

  it('refuses a catalog loaded with the other rules, with IndexWriteError', async () => {
    const writer = new SqliteCatalogWriter(SQL, new MemoryOutput(), {
      migratedAt: MIGRATED_AT,
      schema: SQLITE_V13,
    });
    await expect(writeCatalog(writer, loadCatalog(tree()))).rejects.toThrow(IndexWriteError);
    await expect(writeCatalog(writer, loadCatalog(tree()))).rejects.toThrow(
      'writing a sqlite catalog: it needs a catalog loaded with the v1.26.5 rules, not v1.8.0',
    );
  });

  it('fails with IndexWriteError when a row breaks a constraint, and writes nothing', async () => {
    const output = new MemoryOutput();
    const writer = new SqliteCatalogWriter(SQL, output, {
      migratedAt: MIGRATED_AT,
      schema: SQLITE_V13,
    });
    const catalog = loadCatalog(tree(), { rules: 'v1.26.5' });
    const bundle = catalog.bundles[0];
    if (!bundle) throw new Error('no bundle');
    await expect(writeCatalog(writer, { ...catalog, bundles: [bundle, bundle] })).rejects.toThrow(
      /^writing the index database: UNIQUE constraint failed: operatorbundle\.name/,
    );
    expect(output.files.size).toBe(0);
  });
});
