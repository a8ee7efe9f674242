// The store as a local directory: the CLI's embedded default, needing no cloud account.
// Writes go to a temporary file in the same directory and are renamed into place, so a
// reader never sees half an object and a crash leaves no truncated blob behind.
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import {
  link,
  mkdir,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  unlink,
  writeFile,
} from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StoreError } from '../errors.js';
import { fsCause } from '../fs-errors.js';
import {
  assertValidKey,
  type ObjectInfo,
  type PutOptions,
  type Store,
  StoreNotFoundError,
} from './store.js';

/** The local store cannot be written: disk full, permission denied, --store not a directory. */
export class StoreWriteError extends StoreError {
  override name = 'StoreWriteError';
}

export class LocalDirStore implements Store {
  readonly location: string;
  constructor(private readonly root: string) {
    this.location = `dir:${root}`;
  }

  private file(key: string): string {
    assertValidKey(key);
    return path.join(this.root, ...key.split('/'));
  }

  /**
   * The file that holds an object, for a caller on the same machine that copies it out with
   * the kernel's copy (the CLI's --to-db) instead of streaming it through this process.
   */
  fileOf(key: string): string {
    return this.file(key);
  }

  /** Directories this store made or found (a build puts thousands of objects in a few). */
  private readonly dirs = new Set<string>();

  private async commit(
    key: string,
    write: (tmp: string) => Promise<void>,
    options?: PutOptions,
  ): Promise<boolean> {
    const target = this.file(key);
    const dir = path.dirname(target);
    const tmp = `${target}.tmp-${randomBytes(6).toString('hex')}`;
    // The temporary file is gone once renamed into place; removing it again would only cost
    // an ENOENT (an error object made and thrown away, per object written).
    let renamed = false;
    try {
      if (!this.dirs.has(dir)) {
        await mkdir(dir, { recursive: true });
        this.dirs.add(dir);
      }
      await write(tmp);
      // The temporary file goes either way, in the finally below.
      if (options?.ifNoneMatch) return await linkIfAbsent(tmp, target);
      await rename(tmp, target);
      renamed = true;
      return true;
    } catch (cause) {
      // Made again by the next write, should it have been removed behind our back.
      this.dirs.delete(dir);
      throw new StoreWriteError(`writing ${key} to ${this.location}: ${fsCause(cause)}`, {
        cause,
      });
    } finally {
      if (!renamed) await rm(tmp, { force: true }).catch(() => {});
    }
  }

  put(key: string, body: Uint8Array | string, options?: PutOptions): Promise<boolean> {
    return this.commit(key, (tmp) => writeFile(tmp, body), options);
  }

  putStream(key: string, body: Readable, options?: PutOptions): Promise<boolean> {
    return this.commit(key, (tmp) => pipeline(body, createWriteStream(tmp)), options);
  }

  async get(key: string): Promise<Uint8Array> {
    try {
      return await readFile(this.file(key));
    } catch (err) {
      throw this.readError(key, err);
    }
  }

  async getStream(key: string): Promise<Readable> {
    const file = this.file(key);
    try {
      await stat(file);
    } catch (err) {
      throw this.readError(key, err);
    }
    // 1 MiB reads: a 10 MB database leaves in 10 reads, not 153 of the default 64 KiB, each a
    // thread-pool round trip (a twentieth of a dev-corpus --to-db build's CPU time went there).
    return createReadStream(file, { highWaterMark: 1 << 20 });
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    // Synchronous on purpose: only statSync can say "absent" without throwing, and a build
    // asks for absent keys by the thousand (a bundle's layers before it pulls them), where
    // each thrown ENOENT costs more than the stat of a local file.
    try {
      const s = statSync(this.file(key), { throwIfNoEntry: false });
      return s?.isFile() ? { key, size: s.size } : undefined;
    } catch (err) {
      throw this.readError(key, err);
    }
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    const out: ObjectInfo[] = [];
    const walk = async (dir: string, rel: string): Promise<void> => {
      let entries: import('node:fs').Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') return;
        throw err;
      }
      for (const e of entries) {
        const key = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) await walk(path.join(dir, e.name), key);
        else if (e.isFile() && !e.name.includes('.tmp-') && key.startsWith(prefix)) {
          out.push({ key, size: (await stat(path.join(dir, e.name))).size });
        }
      }
    };
    // From the prefix's deepest folder, not the root: --to-fbc lists a build's configs/ in a
    // store that also holds every layer and stage record (each one stat'ed when walked).
    const folders = prefix.split('/').slice(0, -1);
    const plain = folders.every((f) => f !== '' && f !== '.' && f !== '..');
    if (plain && folders.length > 0)
      await walk(path.join(this.root, ...folders), folders.join('/'));
    else await walk(this.root, '');
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(key: string): Promise<void> {
    await unlink(this.file(key)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw this.readError(key, err);
    });
  }

  async move(
    from: string,
    to: string,
    options?: Pick<PutOptions, 'ifNoneMatch'>,
  ): Promise<boolean> {
    const source = this.file(from);
    const target = this.file(to);
    const where = `moving ${from} to ${to} in ${this.location}`;
    try {
      await stat(source);
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT')
        throw new StoreNotFoundError(`${where}: no such object`, { cause });
      throw new StoreError(`${where}: ${fsCause(cause)}`, { cause });
    }
    try {
      await mkdir(path.dirname(target), { recursive: true });
      if (!options?.ifNoneMatch) {
        await rename(source, target);
        return true;
      }
      const written = await linkIfAbsent(source, target);
      await unlink(source);
      return written;
    } catch (cause) {
      // The source gone since the stat (another mover took it): not found, as above.
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT' && !(await exists(source)))
        throw new StoreNotFoundError(`${where}: no such object`, { cause });
      throw new StoreWriteError(`${where}: ${fsCause(cause)}`, { cause });
    }
  }

  private readError(key: string, err: unknown): StoreError {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      return new StoreNotFoundError(`reading ${key} from ${this.location}: no such object`);
    }
    return new StoreError(`reading ${key} from ${this.location}: ${fsCause(err)}`, {
      cause: err,
    });
  }
}

/**
 * Gives `source` the second name `target` only if `target` is absent, and says whether it did:
 * link() fails with EEXIST where rename() would replace, so it is an atomic "create if absent"
 * (a put or move with ifNoneMatch). `source` stays: the caller removes it either way, as it is
 * then a second name of the object or the loser of the race.
 */
async function linkIfAbsent(source: string, target: string): Promise<boolean> {
  try {
    await link(source, target);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}
