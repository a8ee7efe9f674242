// A manifests directory held in memory: the loader's only input. Keeping the loader on this
// pure value (not on node:fs) lets the same rules run on a local directory, on App Registry
// blobs decoded in memory, or on S3 objects, and keeps lib/catalog free of I/O.
import type { DocumentResult } from './yaml-document.js';

/** One regular file of a manifests tree; `path` is relative, '/'-separated, no '.' or '..'. */
export interface TreeFile {
  path: string;
  data: Uint8Array;
  /**
   * Where the file is on the local disk, when it is there: a reader on another thread
   * (DocumentDecoder) opens it itself instead of being handed its bytes.
   */
  source?: string;
  /**
   * Its first document, when a DocumentDecoder decoded it ahead of the load (what
   * decodeFirstDocument gives for `data` under the load's limits); `data` is then not read.
   */
  document?: DocumentResult;
}

export type FileTree = readonly TreeFile[];

/**
 * Orders paths the way Go's filepath.Walk visits them: directory by directory, entries of a
 * directory in byte order of their names. Comparing whole strings would be wrong: "a.txt"
 * sorts before "a/b" bytewise ('.' < '/'), but Walk visits the directory "a" first.
 */
export function compareWalkOrder(a: string, b: string): number {
  const pa = a.split('/');
  const pb = b.split('/');
  const n = Math.min(pa.length, pb.length);
  for (let i = 0; i < n; i++) {
    const x = pa[i]!;
    const y = pb[i]!;
    if (x !== y) return compareBytes(x, y);
  }
  return pa.length - pb.length;
}

/** Byte order of UTF-8 names (Go's string comparison), never locale order. */
export function compareBytes(a: string, b: string): number {
  if (a === b) return 0;
  const ea = new TextEncoder().encode(a);
  const eb = new TextEncoder().encode(b);
  const n = Math.min(ea.length, eb.length);
  for (let i = 0; i < n; i++) {
    if (ea[i] !== eb[i]) return ea[i]! - eb[i]!;
  }
  return ea.length - eb.length;
}

interface DirNode {
  files: Map<string, string>;
  dirs: Map<string, DirNode>;
}

/**
 * Splits a tree's paths into the smallest groups the catalog rules can load one at a time
 * (lib/catalog/load-in-parts.ts), in walk order: the groups concatenated are the whole walk,
 * and the direct files of a folder (what a bundle is made of) are never split. A folder with
 * no files of its own splits into its sub-folders; a folder with files keeps together the
 * span from its first to its last file (sub-folders in between included) and splits what is
 * before and after. So a package folder is a group, and a folder of package folders is not.
 */
export function walkOrderGroups(paths: readonly string[]): string[][] {
  const root: DirNode = { files: new Map(), dirs: new Map() };
  for (const p of paths) {
    const parts = p.split('/');
    let node = root;
    for (const dir of parts.slice(0, -1)) {
      let next = node.dirs.get(dir);
      if (!next) {
        next = { files: new Map(), dirs: new Map() };
        node.dirs.set(dir, next);
      }
      node = next;
    }
    node.files.set(parts.at(-1)!, p);
  }
  const all = (node: DirNode, out: string[]): string[] => {
    out.push(...node.files.values());
    for (const d of node.dirs.values()) all(d, out);
    return out;
  };
  const groups: string[][] = [];
  const split = (node: DirNode): void => {
    const names = [...node.files.keys(), ...node.dirs.keys()].sort(compareBytes);
    const fileIndexes = names.flatMap((n, i) => (node.files.has(n) ? [i] : []));
    const first = fileIndexes[0] ?? names.length;
    const last = fileIndexes.at(-1) ?? -1;
    for (const [i, name] of names.entries()) {
      if (i === first) {
        const span: string[] = [];
        for (const n of names.slice(first, last + 1)) {
          const file = node.files.get(n);
          if (file !== undefined) span.push(file);
          else all(node.dirs.get(n)!, span);
        }
        groups.push(span);
      }
      if (i >= first && i <= last) continue;
      split(node.dirs.get(name)!);
    }
  };
  split(root);
  return groups;
}
