// Writes a LoadedCatalog as an operator-registry v7 SQLite database, in memory with sql.js,
// and returns the file's bytes. All decisions were taken by lib/catalog; this module only
// encodes: csv/bundle as BLOBs of Go encoding/json bytes, '' rather than NULL for missing
// text (the registry-server skips NULL version/bundlepath rows), NULL for an empty
// api_provider/api_requirer bundle version and for their bundle path, entry ids as given.
// Foreign keys are enforced while writing, so a model that upstream's SQL would have
// rejected fails loudly here instead of producing a subtly different index.
import type { Database, SqlJsStatic } from 'sql.js';
import type { LoadedCatalog } from '../catalog/model.js';
import { CatalogError } from '../errors.js';
import { goJsonEncode } from './go-json.js';
import { COUNTED_TABLES, SCHEMA_V7, SCHEMA_VERSION } from './schema-v7.js';

export type IndexCounts = Record<(typeof COUNTED_TABLES)[number], number>;

export interface WriteIndexOptions {
  /** schema_migrations.timestamp; fixed by SOURCE_DATE_EPOCH for reproducible builds. */
  migratedAt: Date;
}

export class IndexWriteError extends CatalogError {
  override name = 'IndexWriteError';
}

/** SQLite's CURRENT_TIMESTAMP text form: "YYYY-MM-DD HH:MM:SS" in UTC. */
export function sqliteTimestamp(d: Date): string {
  return d.toISOString().replace('T', ' ').slice(0, 19);
}

function insertRows(db: Database, catalog: LoadedCatalog): void {
  const bundle = db.prepare(
    'INSERT INTO operatorbundle(name, csv, bundle, bundlepath, version, skiprange, replaces, skips) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const image = db.prepare('INSERT INTO related_image(image, operatorbundle_name) VALUES (?, ?)');
  const api = db.prepare(
    'INSERT OR IGNORE INTO api(group_name, version, kind, plural) VALUES (?, ?, ?, ?)',
  );
  const provider = db.prepare(
    'INSERT INTO api_provider(group_name, version, kind, operatorbundle_name, operatorbundle_version, operatorbundle_path) VALUES (?, ?, ?, ?, ?, NULL)',
  );
  const requirer = db.prepare(
    'INSERT INTO api_requirer(group_name, version, kind, operatorbundle_name, operatorbundle_version, operatorbundle_path) VALUES (?, ?, ?, ?, ?, NULL)',
  );
  const pkg = db.prepare('INSERT INTO package(name) VALUES (?)');
  const channel = db.prepare(
    'INSERT INTO channel(name, package_name, head_operatorbundle_name) VALUES (?, ?, ?)',
  );
  const defaultChannel = db.prepare('UPDATE package SET default_channel = ? WHERE name = ?');
  const entry = db.prepare(
    'INSERT INTO channel_entry(entry_id, channel_name, package_name, operatorbundle_name, replaces, depth) VALUES (?, ?, ?, ?, ?, ?)',
  );
  try {
    for (const b of catalog.bundles) {
      const csv = goJsonEncode(b.csv);
      const objects = Buffer.concat(b.objects.map((o) => (o === b.csv ? csv : goJsonEncode(o))));
      bundle.run([
        b.name,
        csv,
        objects,
        b.image ?? '',
        b.version,
        b.skipRange,
        b.replaces,
        b.skips.join(','),
      ]);
      for (const img of b.relatedImages) image.run([img, b.name]);
      const version = b.version === '' ? null : b.version;
      for (const k of b.provided) {
        api.run([k.group, k.version, k.kind, k.plural]);
        provider.run([k.group, k.version, k.kind, b.name, version]);
      }
      for (const k of b.required) {
        api.run([k.group, k.version, k.kind, k.plural]);
        requirer.run([k.group, k.version, k.kind, b.name, version]);
      }
    }
    for (const p of catalog.packages) {
      pkg.run([p.name]);
      for (const c of p.channels) channel.run([c.name, p.name, c.head]);
      defaultChannel.run([p.defaultChannel, p.name]);
      for (const e of p.entries) {
        entry.run([e.id, e.channel, e.packageName, e.bundleName, e.replaces ?? null, e.depth]);
      }
    }
  } finally {
    for (const s of [bundle, image, api, provider, requirer, pkg, channel, defaultChannel, entry])
      s.free();
  }
}

/** Row counts of the tables a build reports. */
export function countRows(db: Database): IndexCounts {
  const counts = {} as IndexCounts;
  for (const table of COUNTED_TABLES) {
    const res = db.exec(`SELECT count(*) FROM ${table}`);
    counts[table] = Number(res[0]?.values[0]?.[0] ?? 0);
  }
  return counts;
}

/** Builds the database file for a loaded catalog. */
export function writeIndex(
  SQL: SqlJsStatic,
  catalog: LoadedCatalog,
  options: WriteIndexOptions,
): { bytes: Uint8Array; counts: IndexCounts } {
  const db = new SQL.Database();
  try {
    db.run('PRAGMA foreign_keys = ON');
    db.run('BEGIN');
    for (const ddl of SCHEMA_V7) db.run(ddl);
    db.run('INSERT INTO schema_migrations(version, timestamp) VALUES (?, ?)', [
      SCHEMA_VERSION,
      sqliteTimestamp(options.migratedAt),
    ]);
    insertRows(db, catalog);
    db.run('COMMIT');
    const counts = countRows(db);
    return { bytes: db.export(), counts };
  } catch (cause) {
    throw new IndexWriteError(`writing the index database: ${(cause as Error).message}`, { cause });
  } finally {
    db.close();
  }
}
