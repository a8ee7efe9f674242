// Reads a local manifests directory into the in-memory FileTree the catalog rules work on,
// whole or (readManifestDirParts) one root entry at a time in walk order, so that a build
// holds one package's files at once, never the whole tree.
// Like Go's filepath.Walk it does not descend into symlinked directories, but a symlink to a
// file is read (os.Open follows it). A missing, unreadable or file-less directory is a named
// error, so the CLI can say exactly what is wrong before any work is done.
import { type Dirent, readdirSync, readFileSync, statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { type FileTree, type TreeFile, walkOrderGroups } from '../catalog/file-tree.js';
import { CatalogError } from '../errors.js';
import { mapAll } from '../http/limiter.js';

export class ManifestDirError extends CatalogError {
  override name = 'ManifestDirError';
}

export class EmptyManifestDirError extends CatalogError {
  override name = 'EmptyManifestDirError';
}

/** Files read at once: enough to keep the disk busy, few enough for any open-files limit. */
const READS = 32;

interface FoundFile {
  abs: string;
  rel: string;
  link: boolean;
}

/** Every file's path under `dir` (a cheap walk of names; contents are read later). */
async function findFiles(dir: string, what: string): Promise<FoundFile[]> {
  try {
    const s = await stat(dir);
    if (!s.isDirectory()) throw new ManifestDirError(`${what}: not a directory`);
  } catch (err) {
    if (err instanceof ManifestDirError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new ManifestDirError(
      `${what}: ${code === 'ENOENT' ? 'no such directory' : (err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  const found: FoundFile[] = [];
  // Synchronous: one directory after the other either way, and each asynchronous readdir is a
  // thread-pool hand-off and an event-loop wake-up (245 folders in the dev corpus).
  const walk = (abs: string, rel: string): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(abs, { withFileTypes: true });
    } catch (err) {
      throw new ManifestDirError(`${what}: ${(err as Error).message}`, { cause: err });
    }
    for (const e of entries) {
      const childRel = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path.join(abs, e.name), childRel);
      else if (e.isFile() || e.isSymbolicLink())
        found.push({ abs: path.join(abs, e.name), rel: childRel, link: e.isSymbolicLink() });
    }
  };
  walk(dir, '');
  return found;
}

/** The contents of the files, with bounded parallelism (one at a time leaves I/O idle). */
async function readFound(found: FoundFile[], what: string): Promise<TreeFile[]> {
  const read = async ({ abs, rel, link }: FoundFile): Promise<TreeFile | undefined> => {
    try {
      if (link && !(await stat(abs)).isFile()) return undefined;
      return { path: rel, data: await readFile(abs) };
    } catch (err) {
      if (link) return undefined; // a dangling link decodes to nothing upstream either
      throw new ManifestDirError(`${what}: reading ${rel}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  };
  // Every file is tried; the first failure in walk order is thrown, so the message names the
  // same file however the reads interleave.
  const files = await mapAll(found, READS, read);
  return files.filter((f) => f !== undefined);
}

export async function readManifestDir(dir: string): Promise<FileTree> {
  const what = `reading manifests directory ${dir}`;
  const files = await readFound(await findFiles(dir, what), what);
  if (files.length === 0) throw new EmptyManifestDirError(`${what}: no manifest files found`);
  return files;
}

/**
 * The directory's files in parts for loadCatalogInParts (walkOrderGroups: one package folder
 * each, a folder of package folders split into them), in walk order, so that a build holds
 * one package's files at once. Throws EmptyManifestDirError, after the last part, when there
 * was no file at all.
 */
export async function* readManifestDirParts(dir: string): AsyncGenerator<FileTree> {
  const what = `reading manifests directory ${dir}`;
  const found = new Map((await findFiles(dir, what)).map((f) => [f.rel, f]));
  let count = 0;
  for (const group of walkOrderGroups([...found.keys()])) {
    const files = await readFound(
      group.map((rel) => found.get(rel)!),
      what,
    );
    count += files.length;
    if (files.length > 0) yield files;
  }
  if (count === 0) throw new EmptyManifestDirError(`${what}: no manifest files found`);
}

/**
 * The directory's files with their contents read on each access and not kept: for looking at
 * a few of them (format detection reads only metadata/annotations.yaml) and reading the rest
 * a part at a time; and their total size. Links that do not lead to a file are left out, as
 * readManifestDir does.
 */
export async function lazyManifestDir(dir: string): Promise<{ files: FileTree; bytes: number }> {
  const what = `reading manifests directory ${dir}`;
  const found = await findFiles(dir, what);
  // One synchronous stat per file: on a local tree each takes microseconds, where the batches
  // of asynchronous ones each cost a thread-pool hand-off and a wake-up of the event loop
  // (769 of them, a tenth of a dev-corpus build's system time).
  const sizes = found.map((f) => {
    try {
      const s = statSync(f.abs);
      return s.isFile() ? s.size : undefined;
    } catch (err) {
      if (f.link) return undefined; // a dangling link decodes to nothing upstream either
      throw new ManifestDirError(`${what}: reading ${f.rel}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  });
  const files: TreeFile[] = [];
  let bytes = 0;
  for (const [i, f] of found.entries()) {
    const size = sizes[i];
    if (size === undefined) continue;
    bytes += size;
    files.push({
      path: f.rel,
      source: f.abs,
      get data(): Uint8Array {
        try {
          return readFileSync(f.abs);
        } catch (err) {
          throw new ManifestDirError(`${what}: reading ${f.rel}: ${(err as Error).message}`, {
            cause: err,
          });
        }
      },
    });
  }
  if (files.length === 0) throw new EmptyManifestDirError(`${what}: no manifest files found`);
  return { files, bytes };
}
