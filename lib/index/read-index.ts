// Reads an operator-registry SQLite index (schema 7 as oc 4.5 wrote it, or schema 13 as
// v1.26.5 writes it: the tables the graph needs are the same) into the neutral catalog graph,
// with the rules `opm migrate` v1.26.5 follows to turn a DB into an FBC (reference
// modern-olm.md §4.1, §4.6), so a DB and the FBC migrated from it give the same graph:
// - entries are the bundles with a channel_entry row in the channel and an operatorbundle row,
//   sorted by name;
// - bundles on the replaces chain from the channel head carry their replaces and skips;
//   bundles that are only skipped carry neither; every entry carries its bundle's skipRange.
import type { CatalogGraph, GraphBundle, GraphPackage } from '../catalog/catalog-graph.js';
import { compareBytes } from '../catalog/file-tree.js';
import { CatalogError } from '../errors.js';
import { PagedFile } from './paged-file.js';
import { loadSqlJs, openPagedDatabase } from './sqljs.js';

export class IndexReadError extends CatalogError {
  override name = 'IndexReadError';
}

const SQLITE_MAGIC = 'SQLite format 3\0';

export function isSqliteFile(bytes: Uint8Array): boolean {
  return new TextDecoder().decode(bytes.subarray(0, 16)) === SQLITE_MAGIC;
}

type Row = Record<string, unknown>;
const text = (v: unknown): string =>
  typeof v === 'string'
    ? v
    : v instanceof Uint8Array
      ? new TextDecoder().decode(v)
      : v == null
        ? ''
        : String(v);

export interface IndexGraph extends CatalogGraph {
  /** schema_migrations.version (7, 13, …), or undefined when the table is absent. */
  schemaVersion?: number;
}

export async function readIndexGraph(bytes: Uint8Array, what = 'index'): Promise<IndexGraph> {
  if (!isSqliteFile(bytes)) throw new IndexReadError(`reading ${what}: not an SQLite database`);
  const SQL = await loadSqlJs();
  // Read in place: sql.js would copy the whole file into its in-memory file system first.
  const db = openPagedDatabase(SQL, PagedFile.over(bytes))?.db ?? new SQL.Database(bytes);
  try {
    const rows = (sql: string): Row[] => {
      const stmt = db.prepare(sql);
      const out: Row[] = [];
      while (stmt.step()) out.push(stmt.getAsObject() as Row);
      stmt.free();
      return out;
    };
    let schemaVersion: number | undefined;
    try {
      schemaVersion = Number(rows('SELECT version FROM schema_migrations')[0]?.version);
    } catch {
      schemaVersion = undefined;
    }
    let packageRows: Row[];
    let channelRows: Row[];
    let bundleRows: Row[];
    let entryRows: Row[];
    try {
      packageRows = rows('SELECT name, default_channel FROM package');
      channelRows = rows('SELECT name, package_name, head_operatorbundle_name FROM channel');
      bundleRows = rows('SELECT name, version, replaces, skips, skiprange FROM operatorbundle');
      entryRows = rows(
        'SELECT channel_name, package_name, operatorbundle_name FROM channel_entry ORDER BY entry_id',
      );
    } catch (err) {
      throw new IndexReadError(
        `reading ${what}: not an operator-registry index (${(err as Error).message})`,
      );
    }
    const ob = new Map(bundleRows.map((r) => [text(r.name), r]));
    const inChannel = new Map<string, Set<string>>();
    const bundles = new Map<string, GraphBundle>();
    for (const r of entryRows) {
      const name = text(r.operatorbundle_name);
      if (!ob.has(name)) continue;
      const key = `${text(r.package_name)}\0${text(r.channel_name)}`;
      const set = inChannel.get(key) ?? new Set<string>();
      inChannel.set(key, set);
      set.add(name);
      if (!bundles.has(name))
        bundles.set(name, {
          name,
          package: text(r.package_name),
          version: text(ob.get(name)!.version),
        });
    }
    const packages = new Map<string, GraphPackage>();
    for (const r of packageRows)
      packages.set(text(r.name), { name: text(r.name), defaultChannel: '', channels: [] });
    const defaults = new Map(packageRows.map((r) => [text(r.name), text(r.default_channel)]));
    for (const c of channelRows) {
      const pkgName = text(c.package_name);
      const pkg = packages.get(pkgName);
      if (!pkg) continue;
      const names = inChannel.get(`${pkgName}\0${text(c.name)}`) ?? new Set<string>();
      // The replaces chain from the head, through bundles of this channel.
      const chain = new Set<string>();
      for (let cur = text(c.head_operatorbundle_name); names.has(cur) && !chain.has(cur); ) {
        chain.add(cur);
        cur = text(ob.get(cur)!.replaces);
      }
      const entries = [...names].sort(compareBytes).map((name) => {
        const b = ob.get(name)!;
        const entry: GraphPackage['channels'][number]['entries'][number] = { name, skips: [] };
        if (chain.has(name)) {
          if (text(b.replaces)) entry.replaces = text(b.replaces);
          entry.skips = text(b.skips).split(',').filter(Boolean);
        }
        if (text(b.skiprange)) entry.skipRange = text(b.skiprange);
        return entry;
      });
      pkg.channels.push({ name: text(c.name), entries });
    }
    // A default channel only counts when the package has a channel of that name (migrate's rule).
    for (const p of packages.values()) {
      const d = defaults.get(p.name) ?? '';
      if (p.channels.some((c) => c.name === d)) p.defaultChannel = d;
    }
    return {
      ...(schemaVersion === undefined || Number.isNaN(schemaVersion) ? {} : { schemaVersion }),
      // migrate refuses a package without channels; the graph just leaves it out.
      packages: [...packages.values()]
        .filter((p) => p.channels.length > 0)
        .sort((a, b) => compareBytes(a.name, b.name)),
      bundles,
    };
  } finally {
    db.close();
  }
}
