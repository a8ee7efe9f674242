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

export async function readManifestDir(dir: string): Promise<FileTree> {
  const what = `reading manifests directory ${dir}`;
  try {
    const s = await stat(dir);
    if (!s.isDirectory()) throw new ManifestDirError(`${what}: not a directory`);
  } catch (err) {
    if (err instanceof ManifestDirError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new ManifestDirError(`${what}: ${code === 'ENOENT' ? 'no such directory' : (err as Error).message}`, {
      cause: err,
    });
  }
  const files: TreeFile[] = [];
  const walk = async (abs: string, rel: string): Promise<void> => {
    const entries = await readdir(abs, { withFileTypes: true }).catch((err: Error) => {
      throw new ManifestDirError(`${what}: ${err.message}`, { cause: err });
    });
    for (const e of entries) {
      const childAbs = path.join(abs, e.name);
      const childRel = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        await walk(childAbs, childRel);
      } else if (e.isFile() || e.isSymbolicLink()) {
        try {
          const target = await stat(childAbs);
          if (!target.isFile()) continue;
          files.push({ path: childRel, data: await readFile(childAbs) });
        } catch (err) {
          if (e.isSymbolicLink()) continue; // a dangling link decodes to nothing upstream either
          throw new ManifestDirError(`${what}: reading ${childRel}: ${(err as Error).message}`, { cause: err });
        }
      }
    }
  };
  await walk(dir, '');
  if (files.length === 0) throw new EmptyManifestDirError(`${what}: no manifest files found`);
  return files;
}
