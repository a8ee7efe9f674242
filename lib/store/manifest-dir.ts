// Reads a local manifests directory into the in-memory FileTree the catalog rules work on.
// Like Go's filepath.Walk it does not descend into symlinked directories, but a symlink to a
// file is read (os.Open follows it). A missing, unreadable or file-less directory is a named
// error, so the CLI can say exactly what is wrong before any work is done.
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { FileTree, TreeFile } from '../catalog/file-tree.js';
import { CatalogError } from '../errors.js';

export class ManifestDirError extends CatalogError {
  override name = 'ManifestDirError';
}

export class EmptyManifestDirError extends CatalogError {
  override name = 'EmptyManifestDirError';
}

/** Files read at once: enough to keep the disk busy, few enough for any open-files limit. */
const READ_BATCH = 32;

export async function readManifestDir(dir: string): Promise<FileTree> {
  const what = `reading manifests directory ${dir}`;
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
  // First the names (a cheap walk), then the contents with bounded parallelism: reading
  // hundreds of small files one at a time leaves the process idle on I/O.
  const found: { abs: string; rel: string; link: boolean }[] = [];
  const walk = async (abs: string, rel: string): Promise<void> => {
    const entries = await readdir(abs, { withFileTypes: true }).catch((err: Error) => {
      throw new ManifestDirError(`${what}: ${err.message}`, { cause: err });
    });
    for (const e of entries) {
      const childRel = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(path.join(abs, e.name), childRel);
      else if (e.isFile() || e.isSymbolicLink())
        found.push({ abs: path.join(abs, e.name), rel: childRel, link: e.isSymbolicLink() });
    }
  };
  await walk(dir, '');
  const read = async ({
    abs,
    rel,
    link,
  }: (typeof found)[number]): Promise<TreeFile | undefined> => {
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
  const files: TreeFile[] = [];
  for (let i = 0; i < found.length; i += READ_BATCH) {
    for (const f of await Promise.all(found.slice(i, i + READ_BATCH).map(read)))
      if (f) files.push(f);
  }
  if (files.length === 0) throw new EmptyManifestDirError(`${what}: no manifest files found`);
  return files;
}
