// Writes a LoadedCatalog as an operator-registry SQLite database, in memory with sql.js: schema
// 7 (v1.8.0, `sqlite-v7`) or schema 13 (v1.26.5, `sqlite`), one CatalogWriter for both since
// 13 is 7 plus columns and tables. All decisions were taken by lib/catalog; this module only
// encodes: csv/bundle as BLOBs of Go encoding/json bytes, '' rather than NULL for missing
// text (the registry-server skips NULL version/bundlepath rows), NULL for an empty bundle
// version, NULL bundle paths in api_provider/api_requirer (schema 13: the bundle image, NULL
// when '', there and in properties and dependencies), entry ids as given. Schema 13 adds `substitutesfor` ('', never NULL),
// properties (value TEXT, as Go binds a string) and dependencies (value BLOB, as Go binds
// []byte), in upstream's insert order: bundle, related images, dependencies, properties,
// APIs; a package's olm.package rows go in with its channel entries. Foreign keys are checked
// before the commit (PRAGMA foreign_key_check), so a model that upstream's SQL would have
// rejected fails loudly here instead of producing a subtly different index. They are not
// enforced row by row: channel_entry.replaces is a deferred key to a later row of the same
// table, and while such a key is pending SQLite looks for its referrers with a full scan of
// channel_entry on every insert (no index on replaces), which made the build quadratic in the
// entry count (docs/BENCHMARKS.md, "Scale"); the check at the end looks every key up by index.
import type { Database, SqlJsStatic, Statement } from 'sql.js';
import type { Bundle, LoadedCatalog, LoaderRules, Package } from '../catalog/model.js';
import {
  type CatalogOutput,
  type CatalogWriteResult,
  type CatalogWriter,
  IndexWriteError,
  writeCatalogFileParts,
} from './catalog-writer.js';
import { goJsonEncode } from './go-json.js';
import type { PagedFile } from './paged-file.js';
import { COUNTED_TABLES, SCHEMA_V7, SCHEMA_VERSION } from './schema-v7.js';
import { COUNTED_TABLES_V13, SCHEMA_V13, SCHEMA_V13_VERSION } from './schema-v13.js';
import { openPagedDatabase } from './sqljs.js';

export { IndexWriteError };

export type IndexCounts = Record<(typeof COUNTED_TABLES)[number], number>;

/** What distinguishes the two SQLite outputs: DDL, version, reported tables, loader rules. */
export interface SqliteSchema {
  format: 'sqlite-v7' | 'sqlite';
  version: number;
  ddl: readonly string[];
  countedTables: readonly string[];
  rules: LoaderRules;
}

export const SQLITE_V7: SqliteSchema = {
  format: 'sqlite-v7',
  version: SCHEMA_VERSION,
  ddl: SCHEMA_V7,
  countedTables: COUNTED_TABLES,
  rules: 'v1.8.0',
};

export const SQLITE_V13: SqliteSchema = {
  format: 'sqlite',
  version: SCHEMA_V13_VERSION,
  ddl: SCHEMA_V13,
  countedTables: COUNTED_TABLES_V13,
  rules: 'v1.26.5',
};

/** The file name of the database among a build's outputs (store key builds/<id>/bundles.db). */
export const DB_FILE = 'bundles.db';
export const DB_CONTENT_TYPE = 'application/vnd.sqlite3';

export interface WriteIndexOptions {
  /** schema_migrations.timestamp; fixed by SOURCE_DATE_EPOCH for reproducible builds. */
  migratedAt: Date;
  /** Default schema 7. */
  schema?: SqliteSchema;
}

/** SQLite's CURRENT_TIMESTAMP text form: "YYYY-MM-DD HH:MM:SS" in UTC. */
export function sqliteTimestamp(d: Date): string {
  return d.toISOString().replace('T', ' ').slice(0, 19);
}

const encoder = new TextEncoder();
const nullIfEmpty = (s: string) => (s === '' ? null : s);

/** Prepared statements of one database, freed together. */
class Statements {
  private readonly all: Statement[] = [];
  constructor(private readonly db: Database) {}
  prepare(sql: string): Statement {
    const s = this.db.prepare(sql);
    this.all.push(s);
    return s;
  }
  free(): void {
    for (const s of this.all.splice(0)) s.free();
  }
}

/** Inserts a catalog's rows into an open database with the schema already created. */
class RowWriter {
  private readonly stmts: Statements;
  private readonly bundle: Statement;
  private readonly image: Statement;
  private readonly api: Statement;
  private readonly provider: Statement;
  private readonly requirer: Statement;
  private readonly pkg: Statement;
  private readonly channel: Statement;
  private readonly defaultChannel: Statement;
  private readonly entry: Statement;
  private readonly property?: Statement;
  private readonly dependency?: Statement;

  constructor(
    db: Database,
    private readonly v13: boolean,
  ) {
    this.stmts = new Statements(db);
    const p = (sql: string) => this.stmts.prepare(sql);
    this.bundle = v13
      ? p(
          'INSERT INTO operatorbundle(name, csv, bundle, bundlepath, version, skiprange, replaces, skips, substitutesfor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
        )
      : p(
          'INSERT INTO operatorbundle(name, csv, bundle, bundlepath, version, skiprange, replaces, skips) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        );
    this.image = p('INSERT INTO related_image(image, operatorbundle_name) VALUES (?, ?)');
    this.api = p(
      'INSERT OR IGNORE INTO api(group_name, version, kind, plural) VALUES (?, ?, ?, ?)',
    );
    this.provider = p(
      'INSERT INTO api_provider(group_name, version, kind, operatorbundle_name, operatorbundle_version, operatorbundle_path) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.requirer = p(
      'INSERT INTO api_requirer(group_name, version, kind, operatorbundle_name, operatorbundle_version, operatorbundle_path) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.pkg = p('INSERT INTO package(name) VALUES (?)');
    this.channel = p(
      'INSERT INTO channel(name, package_name, head_operatorbundle_name) VALUES (?, ?, ?)',
    );
    this.defaultChannel = p('UPDATE package SET default_channel = ? WHERE name = ?');
    this.entry = p(
      'INSERT INTO channel_entry(entry_id, channel_name, package_name, operatorbundle_name, replaces, depth) VALUES (?, ?, ?, ?, ?, ?)',
    );
    if (v13) {
      this.property = p(
        'INSERT INTO properties(type, value, operatorbundle_name, operatorbundle_version, operatorbundle_path) VALUES (?, ?, ?, ?, ?)',
      );
      this.dependency = p(
        'INSERT INTO dependencies(type, value, operatorbundle_name, operatorbundle_version, operatorbundle_path) VALUES (?, ?, ?, ?, ?)',
      );
    }
  }

  addBundle(b: Bundle): void {
    const csv = goJsonEncode(b.csv);
    const objects = Buffer.concat(b.objects.map((o) => (o === b.csv ? csv : goJsonEncode(o))));
    const bundlePath = b.image ?? '';
    const row = [
      b.name,
      csv,
      objects,
      bundlePath,
      b.version,
      b.skipRange,
      b.replaces,
      b.skips.join(','),
    ];
    this.bundle.run(this.v13 ? [...row, ''] : row);
    for (const img of b.relatedImages) this.image.run([img, b.name]);
    const version = nullIfEmpty(b.version);
    // v1.26.5 binds the bundle image as the path of these rows (NULL when ''); v7 rows never
    // had one.
    const path = this.v13 ? nullIfEmpty(bundlePath) : null;
    if (this.dependency && this.property) {
      for (const d of b.dependencies)
        this.dependency.run([d.type, encoder.encode(d.value), b.name, version, path]);
      for (const p of b.properties) this.property.run([p.type, p.value, b.name, version, path]);
    }
    for (const k of b.provided) {
      this.api.run([k.group, k.version, k.kind, k.plural]);
      this.provider.run([k.group, k.version, k.kind, b.name, version, path]);
    }
    for (const k of b.required) {
      this.api.run([k.group, k.version, k.kind, k.plural]);
      this.requirer.run([k.group, k.version, k.kind, b.name, version, path]);
    }
  }

  addPackage(p: Package): void {
    this.pkg.run([p.name]);
    for (const c of p.channels) this.channel.run([c.name, p.name, c.head]);
    this.defaultChannel.run([p.defaultChannel, p.name]);
    for (const e of p.entries) {
      this.entry.run([e.id, e.channel, e.packageName, e.bundleName, e.replaces ?? null, e.depth]);
    }
    if (this.property) {
      for (const v of p.packageProperties)
        this.property.run([
          v.property.type,
          v.property.value,
          v.bundleName,
          nullIfEmpty(v.version),
          nullIfEmpty(v.bundlePath),
        ]);
    }
  }

  free(): void {
    this.stmts.free();
  }
}

/** Throws when a row refers to a row that is not there (the first few named). */
function checkForeignKeys(db: Database): void {
  const res = db.exec('PRAGMA foreign_key_check');
  const rows = res[0]?.values ?? [];
  if (rows.length === 0) return;
  const first = rows
    .slice(0, 3)
    .map(([table, rowid, parent]) => `${table} row ${rowid} refers to a missing ${parent} row`);
  throw new Error(
    `FOREIGN KEY constraint failed: ${first.join('; ')}${rows.length > 3 ? ` (${rows.length} rows in all)` : ''}`,
  );
}

/** Row counts of the given tables. */
export function countRows(db: Database, tables: readonly string[] = COUNTED_TABLES) {
  const counts: Record<string, number> = {};
  for (const table of tables) {
    const res = db.exec(`SELECT count(*) FROM ${table}`);
    counts[table] = Number(res[0]?.values[0]?.[0] ?? 0);
  }
  return counts;
}

/** A written database file, to be read once, part by part (each part released after use). */
export interface DatabaseFile {
  size: number;
  parts(): Iterable<Uint8Array>;
}

function wholeFile(bytes: Uint8Array): DatabaseFile {
  return { size: bytes.length, parts: () => [bytes] };
}

/**
 * A database being written: the schema is created on open, rows go in as they come, and
 * close() commits and hands the file over. Everything runs in one transaction, as a fresh
 * upstream load ends up with the same rows. The file is a PagedFile (paged-file.ts), so it is
 * held once and leaves part by part; only with an unrecognised sql.js build is it sql.js's
 * own, copied out whole by export().
 */
export class IndexDatabase {
  private db?: Database;
  private file?: PagedFile;
  private rows?: RowWriter;

  constructor(
    SQL: SqlJsStatic,
    private readonly options: WriteIndexOptions,
  ) {
    const schema = this.schema;
    const paged = openPagedDatabase(SQL);
    const db = paged?.db ?? new SQL.Database();
    this.db = db;
    this.file = paged?.file;
    this.guard(() => {
      db.run('PRAGMA foreign_keys = OFF');
      db.run('BEGIN');
      for (const ddl of schema.ddl) db.run(ddl);
      db.run('INSERT INTO schema_migrations(version, timestamp) VALUES (?, ?)', [
        schema.version,
        sqliteTimestamp(options.migratedAt),
      ]);
      this.rows = new RowWriter(db, schema.version >= SCHEMA_V13_VERSION);
    });
  }

  get schema(): SqliteSchema {
    return this.options.schema ?? SQLITE_V7;
  }

  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (cause) {
      this.abort();
      throw new IndexWriteError(`writing the index database: ${(cause as Error).message}`, {
        cause,
      });
    }
  }

  private get writer(): RowWriter {
    if (!this.rows) throw new IndexWriteError('writing the index database: it is closed');
    return this.rows;
  }

  addBundle(b: Bundle): void {
    const w = this.writer;
    this.guard(() => w.addBundle(b));
  }

  addPackage(p: Package): void {
    const w = this.writer;
    this.guard(() => w.addPackage(p));
  }

  /** Commits, counts and closes the database; returns its file, to be read once. */
  close(): { file: DatabaseFile; counts: Record<string, number> } {
    const w = this.writer;
    const db = this.db as Database;
    const paged = this.file;
    const result = this.guard(() => {
      w.free();
      checkForeignKeys(db);
      db.run('COMMIT');
      const counts = countRows(db, this.schema.countedTables);
      if (!paged) return { file: wholeFile(db.export()), counts };
      const pages = Number(db.exec('PRAGMA page_count')[0]?.values[0]?.[0]);
      const pageSize = Number(db.exec('PRAGMA page_size')[0]?.values[0]?.[0]);
      db.close();
      this.db = undefined;
      // Every page SQLite counts must be in the file we hold: anything else means its writes
      // went elsewhere (paged-file.ts's import table does not fit this sql.js).
      if (paged.size !== pages * pageSize)
        throw new Error(
          `the database file holds ${paged.size} bytes, not the ${pages} pages of ${pageSize} bytes SQLite wrote`,
        );
      return { file: { size: paged.size, parts: () => paged.drain() }, counts };
    });
    this.abort();
    return result;
  }

  /** Bytes of ArrayBuffers its file holds (none when sql.js holds the file itself). */
  get heldBytes(): number {
    return this.file?.heldBytes ?? 0;
  }

  abort(): void {
    this.rows?.free();
    this.rows = undefined;
    this.db?.close();
    this.db = undefined;
    this.file = undefined;
  }
}

/** The whole file in one array (tests and small databases). */
export function fileBytes(file: DatabaseFile): Uint8Array {
  const parts = [...file.parts()];
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/** Builds the database file for a loaded catalog in one call. */
export function writeIndex(
  SQL: SqlJsStatic,
  catalog: LoadedCatalog,
  options: WriteIndexOptions,
): { bytes: Uint8Array; counts: IndexCounts } {
  const db = new IndexDatabase(SQL, options);
  for (const b of catalog.bundles) db.addBundle(b);
  for (const p of catalog.packages) db.addPackage(p);
  const { file, counts } = db.close();
  return { bytes: fileBytes(file), counts: counts as IndexCounts };
}

/** The SQLite outputs as a CatalogWriter: one file, `bundles.db`. */
export class SqliteCatalogWriter implements CatalogWriter {
  readonly format: string;
  readonly rules: LoaderRules;
  private db?: IndexDatabase;

  constructor(
    private readonly SQL: SqlJsStatic,
    private readonly output: CatalogOutput,
    private readonly options: WriteIndexOptions & { schema: SqliteSchema },
  ) {
    this.format = options.schema.format;
    this.rules = options.schema.rules;
  }

  private get open(): IndexDatabase {
    if (!this.db) throw new IndexWriteError(`writing the ${this.format} index: begin() first`);
    return this.db;
  }

  async begin(): Promise<void> {
    this.db = new IndexDatabase(this.SQL, this.options);
  }

  async addBundle(bundle: Bundle): Promise<void> {
    this.open.addBundle(bundle);
  }

  async addPackage(pkg: Package): Promise<void> {
    this.open.addPackage(pkg);
  }

  heldBytes(): number {
    return this.db?.heldBytes ?? 0;
  }

  async finish(): Promise<CatalogWriteResult> {
    const { file: data, counts } = this.open.close();
    this.db = undefined;
    const file = await writeCatalogFileParts(this.output, DB_FILE, data.parts(), DB_CONTENT_TYPE);
    return {
      format: this.format,
      files: [file],
      counts,
      totals: {
        packages: counts.package ?? 0,
        channels: counts.channel ?? 0,
        bundles: counts.operatorbundle ?? 0,
      },
    };
  }

  abort(): void {
    this.db?.abort();
    this.db = undefined;
  }
}
