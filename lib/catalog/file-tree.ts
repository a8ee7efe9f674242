// A manifests directory held in memory: the loader's only input. Keeping the loader on this
// pure value (not on node:fs) lets the same rules run on a local directory, on App Registry
// blobs decoded in memory, or on S3 objects, and keeps lib/catalog free of I/O.

/** One regular file of a manifests tree; `path` is relative, '/'-separated, no '.' or '..'. */
export interface TreeFile {
  path: string;
  data: Uint8Array;
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
