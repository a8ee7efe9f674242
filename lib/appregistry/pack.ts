// Packs one package folder (nested format) into the gzip'd tar an App Registry serves, the
// way operator-courier pushed it, but deterministically: entries in Go walk order with their
// parent directories first, fixed mode/uid/gid/mtime, and a gzip header with no name, zero
// mtime and a fixed OS byte. Same files → same bytes → same digest on every run and machine
// (for a given zlib), which is what lets a second build download nothing.
import { gzipSync } from 'node:zlib';
import { type TarWriteEntry, writeTar } from '../archive/tar.js';
import { compareWalkOrder, type FileTree } from '../catalog/file-tree.js';

export interface PackOptions {
  /**
   * A leading folder for every entry, like courier's `<tmpdir-basename>/`. Empty (the
   * default) puts the package's files at the archive root, so the decoded tree is exactly
   * `<repository>/<files of the folder>`.
   */
  prefix?: string;
}

/** `files` are relative to the package folder. Returns the gzip'd tar bytes. */
export function packPackage(files: FileTree, options: PackOptions = {}): Uint8Array {
  const prefix = (options.prefix ?? '').replace(/^\/+|\/+$/g, '');
  const dirs = new Set<string>();
  for (const f of files) {
    const parts = f.path.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  const withPrefix = (p: string) => (prefix ? `${prefix}/${p}` : p);
  const entries: (TarWriteEntry & { sortKey: string })[] = [];
  if (prefix) entries.push({ name: `${prefix}/`, type: 'dir', sortKey: '' });
  for (const d of dirs) entries.push({ name: `${withPrefix(d)}/`, type: 'dir', sortKey: d });
  for (const f of files)
    entries.push({ name: withPrefix(f.path), type: 'file', data: f.data, sortKey: f.path });
  entries.sort((a, b) =>
    a.sortKey === '' ? -1 : b.sortKey === '' ? 1 : compareWalkOrder(a.sortKey, b.sortKey),
  );
  const gz = gzipSync(writeTar(entries), { level: 9 });
  // zlib writes mtime 0 and no file name already; pin the OS byte (it varies by platform).
  gz[9] = 3;
  return new Uint8Array(gz.buffer, gz.byteOffset, gz.length);
}
