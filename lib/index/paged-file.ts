// The database file an index build writes, held by us instead of by sql.js's in-memory file
// system, so the file is in memory once and leaves it part by part.
//
// Why: sql.js keeps a database in Emscripten's MEMFS, whose file grows by 1.125x copies (up to
// an eighth of the DB as slack, and the old copy resident until a full collection), and its
// only way out is `db.export()`, which reads the whole file into a second array: the peak was
// twice the DB. sql.js 1.13 exposes neither the file system nor sqlite3_serialize, and its
// wasm has no sqlite_dbpage table, but SQLite reaches its files only through a handful of
// WASI/POSIX calls the wasm imports from JavaScript (open, seek, read, write, truncate, stat,
// close). sqljs.ts wraps those imports when the module is instantiated: the one file opened
// while a PagedFile is armed (the main database file of a `new SQL.Database()`) has every
// read, write, size and truncation served by the PagedFile, in chunks (see PagedFile); its
// MEMFS node stays empty, and the journal and everything else still go to MEMFS. SQLite
// writes the same bytes whichever file system is below it, so the file is byte for byte what
// export() gave (a test compares the two on a database larger than SQLite's page cache).
//
// The import names are minified in sql.js's release build: IMPORT_NAMES is the table of one
// sql.js version (package.json pins it exactly). A wrong table cannot go unnoticed: the open
// must be captured (openPagedDatabase checks the path), and IndexDatabase checks the file's
// size against SQLite's page count before it is used.

/**
 * What a SQLite database file is made of here: consecutive chunks, released as they leave.
 * Chunk sizes double from 1 MiB (1, 1, 2, 4 … MiB) up to 256 MiB, then stay there. V8 counts
 * every ArrayBuffer as external memory and starts a full collection whenever that grew by
 * 64 MB since the last one, marking the whole heap, which also grows with the catalog: with
 * 1 MiB chunks a 1.2 GB database brought ~20 of them, their cost growing with the square of
 * the catalog. A large chunk is allocated whole (one step of the external memory) but its
 * pages become resident only as SQLite writes them, so the resident size is the file's, and
 * a 1.2 GB file takes 13 chunks and a handful of collections.
 */
export class PagedFile {
  /** The first chunk's size. */
  static readonly CHUNK = 1 << 20;
  /** The largest chunk's size. */
  static readonly MAX_CHUNK = 256 << 20;
  /** The last doubling chunk (its size is MAX_CHUNK). */
  private static readonly LAST_DOUBLING = Math.log2(PagedFile.MAX_CHUNK / PagedFile.CHUNK) + 1;

  /** Where chunk `k` starts in the file. */
  static chunkStart(k: number): number {
    if (k === 0) return 0;
    if (k <= PagedFile.LAST_DOUBLING) return PagedFile.CHUNK * 2 ** (k - 1);
    return PagedFile.MAX_CHUNK * (k - PagedFile.LAST_DOUBLING + 1);
  }

  static chunkSize(k: number): number {
    return k === 0 ? PagedFile.CHUNK : Math.min(PagedFile.chunkStart(k), PagedFile.MAX_CHUNK);
  }

  /** The chunk that holds file position `at`. */
  static chunkAt(at: number): number {
    if (at < PagedFile.CHUNK) return 0;
    if (at < 2 * PagedFile.MAX_CHUNK) return 32 - Math.clz32(Math.floor(at / PagedFile.CHUNK));
    return PagedFile.LAST_DOUBLING + Math.floor(at / PagedFile.MAX_CHUNK) - 1;
  }

  private chunks: (Uint8Array | undefined)[] = [];
  size = 0;

  /**
   * A file whose content is `bytes`, without copying them: its chunks are views of the array
   * (a database read from the store is then in memory once, not twice). A write copies the
   * chunk it touches first, so `bytes` is never changed.
   */
  static over(bytes: Uint8Array): PagedFile {
    const file = new PagedFile();
    for (let k = 0, at = 0; at < bytes.length; k++, at = PagedFile.chunkStart(k))
      file.chunks.push(bytes.subarray(at, Math.min(at + PagedFile.chunkSize(k), bytes.length)));
    file.size = bytes.length;
    file.borrowed = new Set(file.chunks as Uint8Array[]);
    return file;
  }

  private borrowed?: Set<Uint8Array>;
  private owned = 0;

  /** Bytes of the chunks the file allocated (each whole, written or not). */
  get heldBytes(): number {
    return this.owned;
  }

  /** Chunk `k`, made the file's own (allocated, or copied from the borrowed bytes). */
  private own(k: number): Uint8Array {
    const chunk = this.chunks[k];
    if (chunk && !this.borrowed?.has(chunk)) return chunk;
    const own = new Uint8Array(PagedFile.chunkSize(k));
    this.owned += own.length;
    if (chunk) own.set(chunk);
    this.chunks[k] = own;
    return own;
  }

  write(src: Uint8Array, position: number): void {
    let done = 0;
    while (done < src.length) {
      const at = position + done;
      const k = PagedFile.chunkAt(at);
      const offset = at - PagedFile.chunkStart(k);
      const n = Math.min(src.length - done, PagedFile.chunkSize(k) - offset);
      this.own(k).set(src.subarray(done, done + n), offset);
      done += n;
    }
    this.size = Math.max(this.size, position + src.length);
  }

  /** Copies what the file holds from `position` into `dst`; returns the bytes copied. */
  read(dst: Uint8Array, position: number): number {
    const total = Math.max(0, Math.min(dst.length, this.size - position));
    let done = 0;
    while (done < total) {
      const at = position + done;
      const k = PagedFile.chunkAt(at);
      const offset = at - PagedFile.chunkStart(k);
      const n = Math.min(total - done, PagedFile.chunkSize(k) - offset);
      const chunk = this.chunks[k];
      if (chunk) dst.set(chunk.subarray(offset, offset + n), done);
      else dst.fill(0, done, done + n);
      done += n;
    }
    return total;
  }

  truncate(length: number): void {
    if (length < this.size) {
      const keep = length === 0 ? 0 : PagedFile.chunkAt(length - 1) + 1;
      for (const dropped of this.chunks.splice(keep))
        if (dropped && !this.borrowed?.has(dropped)) this.owned -= dropped.length;
      const last = keep - 1;
      if (last >= 0 && this.chunks[last]) {
        // Zeros from the new end to the old one only (growing again reads zeros): the rest of
        // a large chunk was never written, and touching it would make its pages resident.
        const start = PagedFile.chunkStart(last);
        const to = Math.min(PagedFile.chunkSize(last), this.size - start);
        if (length - start < to) this.own(last).fill(0, length - start, to);
      }
    }
    this.size = length;
  }

  /**
   * The file's bytes in parts of at most 1 MiB (views, not copies), each chunk released once
   * its last part has been handed on: after a full pass the file is empty, so the database is
   * never in memory twice. Parts stay small for the consumer's sake (an S3 upload joins what
   * it is given into its own part size, copying).
   */
  *drain(): Generator<Uint8Array> {
    const size = this.size;
    for (let k = 0; PagedFile.chunkStart(k) < size; k++) {
      const n = Math.min(PagedFile.chunkSize(k), size - PagedFile.chunkStart(k));
      const held = this.chunks[k];
      this.chunks[k] = undefined;
      if (held && !this.borrowed?.has(held)) this.owned -= held.length;
      const chunk = held ?? new Uint8Array(n);
      for (let at = 0; at < n; at += PagedFile.CHUNK)
        yield chunk.subarray(at, Math.min(at + PagedFile.CHUNK, n));
    }
    this.chunks = [];
    this.size = 0;
    this.owned = 0;
  }

  /** The whole file as one array (small databases and tests). */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    this.read(out, 0);
    return out;
  }
}

/** The minified wasm import names of sql.js 1.13.0's release build (dist/sql-wasm.js). */
const IMPORT_NAMES = {
  openat: 'x',
  stat64: 'f',
  lstat64: 'K',
  fstat64: 'g',
  ftruncate64: 'H',
  fd_close: 'e',
  fd_read: 'w',
  fd_seek: 'D',
  fd_write: 't',
} as const;
/** Arity of each wrapped import, checked before anything is wrapped. */
const ARITY: Record<keyof typeof IMPORT_NAMES, number> = {
  openat: 4,
  stat64: 2,
  lstat64: 2,
  fstat64: 2,
  ftruncate64: 2,
  fd_close: 1,
  fd_read: 4,
  fd_seek: 4,
  fd_write: 4,
};

// struct stat as Emscripten writes it: st_size (i64) at 24, st_blocks (i32) at 36.
const ST_SIZE = 24;
const ST_BLOCKS = 36;
const EINVAL = 28;
// The main database file sql.js opens (its journal is `<name>-journal`).
const DB_PATH = /^\/dbfile_\d+$/;

type Fn = (...args: never[]) => unknown;

/** A wasm instance's linear memory (the project's TypeScript libs have no WebAssembly types). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
}

/** The wasm-side half: which descriptors are paged files, and the armed file for the next open. */
class PagedFiles {
  private memory?: WasmMemory;
  private view?: DataView;
  private heap?: Uint8Array;
  private armed?: PagedFile;
  private readonly byFd = new Map<number, { file: PagedFile; path: string; position: number }>();
  private readonly byPath = new Map<string, PagedFile>();
  /** The path of the last open the armed file captured. */
  captured?: string;
  installed = false;

  setMemory(memory: WasmMemory): void {
    this.memory = memory;
  }

  private u8(): Uint8Array {
    const buffer = this.memory!.buffer;
    if (this.heap?.buffer !== buffer) {
      this.heap = new Uint8Array(buffer);
      this.view = new DataView(buffer);
    }
    return this.heap;
  }

  private dv(): DataView {
    this.u8();
    return this.view!;
  }

  private cString(ptr: number): string {
    const heap = this.u8();
    let end = ptr;
    while (heap[end] !== 0) end++;
    return Buffer.from(heap.buffer, heap.byteOffset + ptr, end - ptr).toString('utf8');
  }

  /** Runs `open` with `file` armed: the database file it opens is `file`. */
  capture<T>(file: PagedFile, open: () => T): { result: T; path: string | undefined } {
    this.armed = file;
    this.captured = undefined;
    try {
      return { result: open(), path: this.captured };
    } finally {
      this.armed = undefined;
    }
  }

  /** Wraps the file imports in place; false (and nothing wrapped) when they are not as expected. */
  wrap(imports: Record<string, Record<string, unknown>>): boolean {
    const env = imports.a;
    if (!env) return false;
    const original = {} as Record<keyof typeof IMPORT_NAMES, Fn>;
    for (const [name, key] of Object.entries(IMPORT_NAMES) as [
      keyof typeof IMPORT_NAMES,
      string,
    ][]) {
      const fn = env[key];
      if (typeof fn !== 'function' || fn.length !== ARITY[name]) return false;
      original[name] = fn as Fn;
    }
    const call = (name: keyof typeof IMPORT_NAMES, args: unknown[]) =>
      (original[name] as (...a: unknown[]) => unknown)(...args);
    const open = this.byFd;

    env[IMPORT_NAMES.openat] = (dirfd: number, pathPtr: number, flags: number, varargs: number) => {
      const fd = call('openat', [dirfd, pathPtr, flags, varargs]) as number;
      if (fd >= 0 && this.armed) {
        const path = this.cString(pathPtr);
        if (DB_PATH.test(path)) {
          open.set(fd, { file: this.armed, path, position: 0 });
          this.byPath.set(path, this.armed);
          this.captured = path;
          this.armed = undefined;
        }
      }
      return fd;
    };
    const statByPath =
      (name: 'stat64' | 'lstat64') =>
      (pathPtr: number, buf: number): number => {
        const r = call(name, [pathPtr, buf]) as number;
        if (r === 0 && this.byPath.size > 0) {
          const file = this.byPath.get(this.cString(pathPtr));
          if (file) this.patchStat(buf, file.size);
        }
        return r;
      };
    env[IMPORT_NAMES.stat64] = statByPath('stat64');
    env[IMPORT_NAMES.lstat64] = statByPath('lstat64');
    env[IMPORT_NAMES.fstat64] = (fd: number, buf: number) => {
      const r = call('fstat64', [fd, buf]) as number;
      const f = open.get(fd);
      if (r === 0 && f) this.patchStat(buf, f.file.size);
      return r;
    };
    env[IMPORT_NAMES.ftruncate64] = (fd: number, length: bigint) => {
      const f = open.get(fd);
      if (!f) return call('ftruncate64', [fd, length]);
      if (length < 0n) return -EINVAL;
      f.file.truncate(Number(length));
      return 0;
    };
    env[IMPORT_NAMES.fd_close] = (fd: number) => {
      const f = open.get(fd);
      if (f) {
        open.delete(fd);
        this.byPath.delete(f.path);
      }
      return call('fd_close', [fd]);
    };
    env[IMPORT_NAMES.fd_seek] = (fd: number, offset: bigint, whence: number, out: number) => {
      const f = open.get(fd);
      if (!f) return call('fd_seek', [fd, offset, whence, out]);
      const base = whence === 0 ? 0 : whence === 1 ? f.position : whence === 2 ? f.file.size : NaN;
      const position = base + Number(offset);
      if (!(position >= 0)) return EINVAL;
      f.position = position;
      this.dv().setBigInt64(out, BigInt(position), true);
      return 0;
    };
    const transfer =
      (name: 'fd_read' | 'fd_write') =>
      (fd: number, iov: number, iovcnt: number, out: number): number => {
        const f = open.get(fd);
        if (!f) return call(name, [fd, iov, iovcnt, out]) as number;
        const heap = this.u8();
        const view = this.dv();
        let total = 0;
        for (let i = 0; i < iovcnt; i++) {
          const ptr = view.getUint32(iov + i * 8, true);
          const len = view.getUint32(iov + i * 8 + 4, true);
          const bytes = heap.subarray(ptr, ptr + len);
          let n = len;
          if (name === 'fd_write') f.file.write(bytes, f.position);
          else n = f.file.read(bytes, f.position);
          f.position += n;
          total += n;
          if (n < len) break;
        }
        view.setUint32(out, total, true);
        return 0;
      };
    env[IMPORT_NAMES.fd_read] = transfer('fd_read');
    env[IMPORT_NAMES.fd_write] = transfer('fd_write');
    this.installed = true;
    return true;
  }

  private patchStat(buf: number, size: number): void {
    const view = this.dv();
    view.setBigInt64(buf + ST_SIZE, BigInt(size), true);
    view.setInt32(buf + ST_BLOCKS, Math.ceil(size / 4096), true);
  }
}

/** The one set of paged files of the process (sql.js is instantiated once). */
export const pagedFiles = new PagedFiles();
