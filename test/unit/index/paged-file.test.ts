// The database file an index build writes is held by PagedFile (lib/index/paged-file.ts), not
// by sql.js's in-memory file system: these tests show the bytes are exactly what sql.js's own
// export() gives for the same statements, on a database several times larger than SQLite's page
// cache (so pages are written, evicted, read back and rewritten), and that the file leaves in
// parts it then no longer holds.
import { createHash } from 'node:crypto';
import type { Database, SqlJsStatic } from 'sql.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { PagedFile } from '../../../lib/index/paged-file.js';
import { loadSqlJs, openPagedDatabase, pagedFilesAvailable } from '../../../lib/index/sqljs.js';

let SQL: SqlJsStatic;
beforeAll(async () => {
  SQL = await loadSqlJs();
});

/** Statements that make a ~12 MB file: blobs, an index, updates and deletes in one transaction. */
function fill(db: Database): void {
  db.run('PRAGMA foreign_keys = ON');
  db.run('BEGIN');
  db.run('CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, data BLOB)');
  db.run('CREATE INDEX t_name ON t(name)');
  const insert = db.prepare('INSERT INTO t(name, data) VALUES (?, ?)');
  for (let i = 0; i < 3000; i++) {
    const data = new Uint8Array(1000 + ((i * 7919) % 6000)).fill(i & 0xff);
    insert.run([`row-${(i * 104729) % 3000}`, data]);
  }
  insert.free();
  db.run('UPDATE t SET data = zeroblob(50) WHERE id % 3 = 0');
  db.run('DELETE FROM t WHERE id % 5 = 0');
  db.run('COMMIT');
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('PagedFile', () => {
  it('recognises the imports of the installed sql.js', () => {
    expect(pagedFilesAvailable()).toBe(true);
  });

  it('holds byte for byte the file sql.js export() gives, without MEMFS holding it', () => {
    const reference = new SQL.Database();
    fill(reference);
    const expected = reference.export();
    reference.close();
    expect(expected.length).toBeGreaterThan(8 * 2 ** 20);

    const paged = openPagedDatabase(SQL);
    expect(paged).toBeDefined();
    const { db, file } = paged!;
    fill(db);
    const pages = Number(db.exec('PRAGMA page_count')[0]!.values[0]![0]);
    expect(file.size).toBe(pages * 4096);
    // sql.js's own file stays empty: export() reads MEMFS, which never saw a write.
    expect(db.export().length).toBe(0);
    db.close();
    expect(file.size).toBe(expected.length);
    expect(sha(file.bytes())).toBe(sha(expected));
  });

  it('a database reopened from the paged bytes reads back its rows', () => {
    const { db, file } = openPagedDatabase(SQL)!;
    fill(db);
    db.close();
    const copy = new SQL.Database(file.bytes());
    expect(copy.exec('SELECT count(*), sum(length(data)) FROM t')[0]!.values[0]).toEqual([
      2400,
      expect.any(Number),
    ]);
    expect(copy.exec('PRAGMA integrity_check')[0]!.values[0]![0]).toBe('ok');
    copy.close();
  });

  it('reads a database in place over its bytes (PagedFile.over), never changing them', () => {
    const reference = new SQL.Database();
    fill(reference);
    const bytes = reference.export();
    reference.close();
    const before = sha(bytes);
    const { db, file } = openPagedDatabase(SQL, PagedFile.over(bytes))!;
    expect(db.exec('SELECT count(*) FROM t')[0]!.values[0]![0]).toBe(2400);
    expect(db.exec('PRAGMA integrity_check')[0]!.values[0]![0]).toBe('ok');
    db.run('DELETE FROM t WHERE id < 100'); // a write copies the chunks it touches
    db.close();
    expect(sha(bytes)).toBe(before);
    expect(sha(file.bytes())).not.toBe(before);
  });

  it('lays chunks out doubling from 1 MiB to 256 MiB, then 256 MiB each', () => {
    const MiB = 2 ** 20;
    const sizes = Array.from({ length: 13 }, (_, k) => PagedFile.chunkSize(k) / MiB);
    expect(sizes).toEqual([1, 1, 2, 4, 8, 16, 32, 64, 128, 256, 256, 256, 256]);
    for (let k = 0; k < 40; k++) {
      const start = PagedFile.chunkStart(k);
      expect(PagedFile.chunkStart(k + 1)).toBe(start + PagedFile.chunkSize(k));
      expect(PagedFile.chunkAt(start)).toBe(k);
      expect(PagedFile.chunkAt(start + PagedFile.chunkSize(k) - 1)).toBe(k);
    }
  });

  it('reads back writes across chunk boundaries and holds only the chunks written', () => {
    const MiB = 2 ** 20;
    const f = new PagedFile();
    // Across the boundaries at 2 and 4 MiB: chunks 1, 2 and 3 (1 + 2 + 4 MiB).
    const data = new Uint8Array(2 * MiB + 200).map((_, i) => i % 251);
    f.write(data, 2 * MiB - 100);
    // One page far out: only its 256 MiB chunk is allocated (and only that page resident).
    f.write(new Uint8Array(4096).fill(9), 700 * MiB);
    expect(f.heldBytes).toBe((1 + 2 + 4 + 256) * MiB);
    const back = new Uint8Array(data.length);
    expect(f.read(back, 2 * MiB - 100)).toBe(data.length);
    expect(sha(back)).toBe(sha(data));
    const page = new Uint8Array(4100);
    expect(f.read(page, 700 * MiB - 4)).toBe(4100);
    expect([...page.subarray(0, 6)]).toEqual([0, 0, 0, 0, 9, 9]);
    expect(f.size).toBe(700 * MiB + 4096);
    // Cut inside chunk 2: chunk 3 and the far one go, the rest of chunk 2 reads zeros.
    f.truncate(3 * MiB);
    expect(f.heldBytes).toBe((1 + 2) * MiB);
    f.truncate(5 * MiB);
    const after = new Uint8Array(8);
    f.read(after, 3 * MiB - 4);
    expect([...after]).toEqual([...data.subarray(MiB + 96, MiB + 100), 0, 0, 0, 0]);
    // It leaves in parts of at most 1 MiB whatever its chunks.
    const parts = [...f.drain()];
    expect(parts.map((p) => p.length / MiB)).toEqual([1, 1, 1, 1, 1]);
    expect(sha(parts[2]!.subarray(MiB - 100))).toBe(sha(data.subarray(MiB, MiB + 100)));
    expect(parts[3]!.every((b) => b === 0)).toBe(true);
    expect(f.heldBytes).toBe(0);
  });

  it('drains in chunks it releases, ending empty', () => {
    const f = new PagedFile();
    const C = PagedFile.CHUNK;
    const a = new Uint8Array(C + 100).fill(7);
    f.write(a, 10);
    f.write(new Uint8Array([1, 2, 3]), 2 * C + 5); // leaves a hole from C + 110 to 2C + 5
    expect(f.size).toBe(2 * C + 8);
    const back = new Uint8Array(20);
    expect(f.read(back, 2 * C - 4)).toBe(12);
    expect([...back.subarray(0, 12)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3]);
    f.truncate(C + 50);
    expect(f.read(back, C + 40)).toBe(10);
    expect([...back.subarray(0, 10)]).toEqual(Array(10).fill(7));
    f.truncate(C + 60); // growing again reads zeros, not what was cut off
    expect(f.read(back, C + 50)).toBe(10);
    expect([...back.subarray(0, 10)]).toEqual(Array(10).fill(0));
    // What it says it holds (the memory watch's "not garbage") is its chunks, whole.
    expect(f.heldBytes).toBe(2 * C);
    const parts = [...f.drain()];
    expect(f.heldBytes).toBe(0);
    expect(parts.map((p) => p.length)).toEqual([C, 60]);
    expect(parts[0]![9]).toBe(0);
    expect(parts[0]![10]).toBe(7);
    expect(f.size).toBe(0);
    expect([...f.drain()]).toEqual([]);
  });
});
