// The v7 index writer, checked by opening the bytes it returns with sql.js: the schema as
// operator-registry v1.8.0 left it (compared with ../shared/reference/schema-v7.sql when that
// file is present, and with hard-coded column lists always), the row encodings upstream used
// ('' not NULL, NULL bundle paths, BLOB csv/bundle of Go JSON), and reproducible bytes.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Database, SqlJsStatic, SqlValue } from 'sql.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../../lib/catalog/load-catalog.js';
import type { LoadedCatalog } from '../../../lib/catalog/model.js';
import { goJsonEncode } from '../../../lib/index/go-json.js';
import { loadSqlJs } from '../../../lib/index/sqljs.js';
import { IndexWriteError, sqliteTimestamp, writeIndex } from '../../../lib/index/write-index.js';
import { SHARED } from '../../support/shared-corpus.js';
import { crd, csv, fileTree, pkg } from '../catalog/manifest-builders.js';

const REFERENCE_SCHEMA = path.join(SHARED, 'reference', 'schema-v7.sql');
const MIGRATED_AT = new Date('2020-04-07T10:11:12.345Z');

const TABLE_COLUMNS: Record<string, string[]> = {
  schema_migrations: ['version', 'timestamp'],
  api: ['group_name', 'version', 'kind', 'plural'],
  operatorbundle: [
    'name',
    'csv',
    'bundle',
    'bundlepath',
    'skiprange',
    'version',
    'replaces',
    'skips',
  ],
  package: ['name', 'default_channel'],
  channel: ['name', 'package_name', 'head_operatorbundle_name'],
  channel_entry: [
    'entry_id',
    'channel_name',
    'package_name',
    'operatorbundle_name',
    'replaces',
    'depth',
  ],
  related_image: ['image', 'operatorbundle_name'],
  api_provider: [
    'group_name',
    'version',
    'kind',
    'operatorbundle_name',
    'operatorbundle_version',
    'operatorbundle_path',
  ],
  api_requirer: [
    'group_name',
    'version',
    'kind',
    'operatorbundle_name',
    'operatorbundle_version',
    'operatorbundle_path',
  ],
};

function rows(db: Database, sql: string, params: SqlValue[] = []): Record<string, SqlValue>[] {
  const stmt = db.prepare(sql);
  try {
    stmt.bind(params);
    const out: Record<string, SqlValue>[] = [];
    while (stmt.step()) out.push(stmt.getAsObject());
    return out;
  } finally {
    stmt.free();
  }
}

/** Everything about a table's shape that a reader could depend on. */
function tableShape(db: Database, table: string) {
  return {
    columns: rows(db, `PRAGMA table_info("${table}")`),
    foreignKeys: rows(db, `PRAGMA foreign_key_list("${table}")`)
      .map(({ id: _id, ...fk }) => fk)
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    indexes: rows(db, `PRAGMA index_list("${table}")`).map(({ seq: _seq, ...ix }) => ix),
  };
}

function catalogSample(): LoadedCatalog {
  return loadCatalog(
    fileTree({
      'w/1.0.0/a.crd.yaml': crd('widgets', 'example.com', 'Widget', ['v1']),
      'w/1.0.0/b-service.yaml': {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'svc', note: '<&>' },
      },
      'w/1.0.0/w.v1.clusterserviceversion.yaml': csv('w.v1', {
        owned: [{ name: 'widgets.example.com', version: 'v1', kind: 'Widget' }],
        relatedImages: [{ name: 'op', image: 'quay.io/w/op:1' }],
      }),
      'w/2.0.0/a.crd.yaml': crd('widgets', 'example.com', 'Widget', ['v1', 'v2']),
      'w/2.0.0/w.v2.clusterserviceversion.yaml': csv('w.v2', {
        version: '2.0.0',
        replaces: 'w.v1',
        skips: ['w.v1a', 'w.v1b'],
        skipRange: '>=1.0.0 <2.0.0',
        owned: [{ name: 'widgets.example.com', version: 'v2', kind: 'Widget' }],
        required: [{ name: 'gadgets.other.io', version: 'v1', kind: 'Gadget' }],
        relatedImages: [{ name: 'op', image: 'quay.io/w/op:2' }, { name: 'empty' }],
      }),
      'w/w.package.yaml': pkg('w', { stable: 'w.v2' }),
    }),
  );
}

let SQL: SqlJsStatic;
let catalog: LoadedCatalog;
let bytes: Uint8Array;
let counts: ReturnType<typeof writeIndex>['counts'];
let db: Database;

beforeAll(async () => {
  SQL = await loadSqlJs();
  catalog = catalogSample();
  expect(catalog.problems).toEqual([]);
  ({ bytes, counts } = writeIndex(SQL, catalog, { migratedAt: MIGRATED_AT }));
  db = new SQL.Database(bytes);
});

describe('schema', () => {
  it('has exactly the v7 tables with their columns in order', () => {
    const tables = rows(
      db,
      "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
    ).map((r) => r.name);
    expect(tables).toEqual(Object.keys(TABLE_COLUMNS).sort());
    for (const [table, columns] of Object.entries(TABLE_COLUMNS)) {
      expect(
        rows(db, `PRAGMA table_info("${table}")`).map((c) => c.name),
        table,
      ).toEqual(columns);
    }
  });

  it('keys and constrains as upstream: primary keys, NOT NULL plural, the unique index pk', () => {
    const pk = (table: string) =>
      rows(db, `PRAGMA table_info("${table}")`)
        .filter((c) => Number(c.pk) > 0)
        .sort((a, b) => Number(a.pk) - Number(b.pk))
        .map((c) => c.name);
    expect(pk('operatorbundle')).toEqual(['name']);
    expect(pk('package')).toEqual(['name']);
    expect(pk('channel')).toEqual(['name', 'package_name']);
    expect(pk('channel_entry')).toEqual(['entry_id']);
    expect(pk('api')).toEqual(['group_name', 'version', 'kind']);
    expect(rows(db, 'PRAGMA table_info(api)').find((c) => c.name === 'plural')?.notnull).toBe(1);
    expect(rows(db, 'PRAGMA index_list(operatorbundle)').find((i) => i.name === 'pk')?.unique).toBe(
      1,
    );
    expect(rows(db, 'PRAGMA index_info(pk)').map((c) => c.name)).toEqual([
      'name',
      'version',
      'bundlepath',
    ]);
  });

  it('declares the foreign keys of every table', () => {
    const fks = (table: string) =>
      rows(db, `PRAGMA foreign_key_list("${table}")`).map((f) => [
        f.id,
        f.table,
        f.from,
        f.to,
        f.on_delete,
      ]);
    expect(fks('package')).toEqual([
      [0, 'channel', 'name', 'package_name', 'CASCADE'],
      [0, 'channel', 'default_channel', 'name', 'CASCADE'],
    ]);
    expect(fks('channel')).toEqual([
      [0, 'operatorbundle', 'head_operatorbundle_name', 'name', 'CASCADE'],
    ]);
    expect(
      fks('channel_entry')
        .map(([, t, from, to, del]) => [t, from, to, del])
        .sort(),
    ).toEqual([
      ['channel', 'channel_name', 'name', 'CASCADE'],
      ['channel', 'package_name', 'package_name', 'CASCADE'],
      ['channel_entry', 'replaces', 'entry_id', 'NO ACTION'],
    ]);
    expect(fks('related_image')).toEqual([
      [0, 'operatorbundle', 'operatorbundle_name', 'name', 'CASCADE'],
    ]);
    for (const table of ['api_provider', 'api_requirer']) {
      expect(
        fks(table)
          .map(([, t, from, to, del]) => [t, from, to, del])
          .sort(),
        table,
      ).toEqual([
        ['api', 'group_name', 'group_name', 'CASCADE'],
        ['api', 'kind', 'kind', 'CASCADE'],
        ['api', 'version', 'version', 'CASCADE'],
        ['operatorbundle', 'operatorbundle_name', 'name', 'CASCADE'],
        ['operatorbundle', 'operatorbundle_path', 'bundlepath', 'CASCADE'],
        ['operatorbundle', 'operatorbundle_version', 'version', 'CASCADE'],
      ]);
    }
    const ddl = (name: string) =>
      String(rows(db, 'SELECT sql FROM sqlite_master WHERE name = ?', [name])[0]?.sql);
    for (const table of ['channel_entry', 'api_provider', 'api_requirer']) {
      expect(ddl(table), table).toContain('DEFERRABLE INITIALLY DEFERRED');
    }
  });

  it('has the two cleanup triggers, which drop an api row nothing provides or requires any more', () => {
    expect(
      rows(db, "SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger' ORDER BY name"),
    ).toEqual([
      { name: 'api_provider_cleanup', tbl_name: 'api_provider' },
      { name: 'api_requirer_cleanup', tbl_name: 'api_requirer' },
    ]);
    const scratch = new SQL.Database(bytes);
    try {
      scratch.run('DELETE FROM api_requirer');
      scratch.run('DELETE FROM api_provider');
      expect(rows(scratch, 'SELECT count(*) AS n FROM api')[0]?.n).toBe(0);
    } finally {
      scratch.close();
    }
  });

  it.skipIf(!existsSync(REFERENCE_SCHEMA))(
    'matches ../shared/reference/schema-v7.sql table by table (columns, foreign keys, indexes)',
    () => {
      const reference = new SQL.Database();
      try {
        reference.exec(readFileSync(REFERENCE_SCHEMA, 'utf8'));
        const names = (d: Database, type: string) =>
          rows(d, 'SELECT name FROM sqlite_master WHERE type = ? ORDER BY name', [type]).map(
            (r) => r.name,
          );
        expect(names(db, 'table')).toEqual(names(reference, 'table'));
        expect(names(db, 'index')).toEqual(names(reference, 'index'));
        expect(names(db, 'trigger')).toEqual(names(reference, 'trigger'));
        for (const table of names(reference, 'table')) {
          expect(tableShape(db, String(table)), String(table)).toEqual(
            tableShape(reference, String(table)),
          );
        }
      } finally {
        reference.close();
      }
    },
  );
});

describe('rows', () => {
  it('records schema version 7 and the given timestamp', () => {
    expect(rows(db, 'SELECT version, timestamp FROM schema_migrations')).toEqual([
      { version: 7, timestamp: '2020-04-07 10:11:12' },
    ]);
    expect(sqliteTimestamp(new Date(0))).toBe('1970-01-01 00:00:00');
  });

  it('stores csv and bundle as BLOBs of Go JSON, the bundle objects in file-name order', () => {
    const b = catalog.bundles.find((x) => x.name === 'w.v1')!;
    const row = rows(
      db,
      "SELECT typeof(csv) AS tc, typeof(bundle) AS tb, csv, bundle FROM operatorbundle WHERE name = 'w.v1'",
    )[0]!;
    expect([row.tc, row.tb]).toEqual(['blob', 'blob']);
    expect(row.csv).toEqual(goJsonEncode(b.csv));
    const text = new TextDecoder().decode(row.bundle as Uint8Array);
    const lines = text.split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[3]).toBe('');
    expect(lines.slice(0, 3).map((l) => (JSON.parse(l) as { kind: string }).kind)).toEqual([
      'CustomResourceDefinition',
      'Service',
      'ClusterServiceVersion',
    ]);
    expect(lines[1]).toBe(
      '{"apiVersion":"v1","kind":"Service","metadata":{"name":"svc","note":"\\u003c\\u0026\\u003e"}}',
    );
    expect(text.endsWith(new TextDecoder().decode(goJsonEncode(b.csv)))).toBe(true);
  });

  it("writes '' (not NULL) for missing replaces, skips, skiprange and bundlepath; skips comma-joined", () => {
    expect(
      rows(
        db,
        'SELECT name, version, replaces, skips, skiprange, bundlepath FROM operatorbundle ORDER BY name',
      ),
    ).toEqual([
      { name: 'w.v1', version: '', replaces: '', skips: '', skiprange: '', bundlepath: '' },
      {
        name: 'w.v2',
        version: '2.0.0',
        replaces: 'w.v1',
        skips: 'w.v1a,w.v1b',
        skiprange: '>=1.0.0 <2.0.0',
        bundlepath: '',
      },
    ]);
  });

  it('writes NULL bundle paths in api_provider/api_requirer, and a NULL version when the CSV has none', () => {
    expect(
      rows(
        db,
        'SELECT group_name, version, kind, operatorbundle_name AS b, operatorbundle_version AS v, operatorbundle_path AS p FROM api_provider ORDER BY b, version',
      ),
    ).toEqual([
      { group_name: 'example.com', version: 'v1', kind: 'Widget', b: 'w.v1', v: null, p: null },
      { group_name: 'example.com', version: 'v1', kind: 'Widget', b: 'w.v2', v: '2.0.0', p: null },
      { group_name: 'example.com', version: 'v2', kind: 'Widget', b: 'w.v2', v: '2.0.0', p: null },
    ]);
    expect(
      rows(
        db,
        'SELECT group_name, version, kind, operatorbundle_name AS b, operatorbundle_version AS v, operatorbundle_path AS p FROM api_requirer',
      ),
    ).toEqual([
      { group_name: 'other.io', version: 'v1', kind: 'Gadget', b: 'w.v2', v: '2.0.0', p: null },
    ]);
    expect(
      rows(db, 'SELECT group_name, version, kind, plural FROM api ORDER BY group_name, version'),
    ).toEqual([
      { group_name: 'example.com', version: 'v1', kind: 'Widget', plural: 'widgets' },
      { group_name: 'example.com', version: 'v2', kind: 'Widget', plural: 'widgets' },
      { group_name: 'other.io', version: 'v1', kind: 'Gadget', plural: 'gadgets' },
    ]);
  });

  it('writes related images, packages, channels and entries as the catalog holds them', () => {
    expect(
      rows(db, 'SELECT image, operatorbundle_name AS b FROM related_image ORDER BY b, image'),
    ).toEqual([
      { image: 'quay.io/w/op:1', b: 'w.v1' },
      { image: '', b: 'w.v2' },
      { image: 'quay.io/w/op:2', b: 'w.v2' },
    ]);
    expect(rows(db, 'SELECT * FROM package')).toEqual([{ name: 'w', default_channel: 'stable' }]);
    expect(rows(db, 'SELECT * FROM channel')).toEqual([
      { name: 'stable', package_name: 'w', head_operatorbundle_name: 'w.v2' },
    ]);
    expect(
      rows(
        db,
        'SELECT entry_id, operatorbundle_name AS b, replaces, depth FROM channel_entry ORDER BY entry_id',
      ),
    ).toEqual([
      { entry_id: 1, b: 'w.v2', replaces: 6, depth: 0 },
      { entry_id: 2, b: 'w.v1a', replaces: null, depth: 1 },
      { entry_id: 3, b: 'w.v2', replaces: 2, depth: 1 },
      { entry_id: 4, b: 'w.v1b', replaces: null, depth: 2 },
      { entry_id: 5, b: 'w.v2', replaces: 4, depth: 2 },
      { entry_id: 6, b: 'w.v1', replaces: null, depth: 3 },
    ]);
  });

  it('returns the row counts of the tables a build reports', () => {
    expect(counts).toEqual({
      package: 1,
      channel: 1,
      channel_entry: 6,
      operatorbundle: 2,
      api: 3,
      api_provider: 3,
      api_requirer: 1,
      related_image: 3,
    });
  });
});

describe('determinism and failures', () => {
  it('gives byte-identical files for the same catalog and timestamp, different ones for another timestamp', () => {
    const again = writeIndex(SQL, catalogSample(), { migratedAt: MIGRATED_AT }).bytes;
    expect(Buffer.from(again).equals(Buffer.from(bytes))).toBe(true);
    const later = writeIndex(SQL, catalog, { migratedAt: new Date('2021-01-01T00:00:00Z') }).bytes;
    expect(Buffer.from(later).equals(Buffer.from(bytes))).toBe(false);
  });

  it('refuses a model that breaks a foreign key, with IndexWriteError', () => {
    const broken: LoadedCatalog = {
      ...catalog,
      packages: [
        {
          name: 'x',
          defaultChannel: 'stable',
          channels: [{ name: 'stable', head: 'not-a-bundle', members: [] }],
          entries: [],
          path: 'x/package.yaml',
          packageProperties: [],
        },
      ],
    };
    let caught: unknown;
    try {
      writeIndex(SQL, broken, { migratedAt: MIGRATED_AT });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(IndexWriteError);
    expect((caught as Error).name).toBe('IndexWriteError');
    expect((caught as Error).message).toMatch(
      /^writing the index database: FOREIGN KEY constraint failed: channel row \d+ refers to a missing operatorbundle row/,
    );
  });

  it('refuses an entry that replaces an entry that is not there (a deferred key), with IndexWriteError', () => {
    const [first, ...rest] = catalog.packages;
    const broken: LoadedCatalog = {
      ...catalog,
      packages: [
        {
          ...first!,
          entries: first!.entries.map((e, i) => (i === 0 ? { ...e, replaces: 999 } : e)),
        },
        ...rest,
      ],
    };
    expect(() => writeIndex(SQL, broken, { migratedAt: MIGRATED_AT })).toThrow(
      /^writing the index database: FOREIGN KEY constraint failed: channel_entry row \d+ refers to a missing channel_entry row/,
    );
  });
});
