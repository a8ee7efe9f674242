// File-system failures said the way a person reads them: "disk full", "permission denied",
// "not a directory" instead of Node's raw "ENOSPC: no space left on device, write". One
// mapping for every module that writes local files (store, outputs, layouts, unpacking),
// so the same problem reads the same wherever it happens. The code stays in parentheses
// for people who search for it.

const CAUSES: Record<string, string> = {
  ENOSPC: 'disk full',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOTDIR: 'a part of the path is not a directory',
  EISDIR: 'it is a directory',
  EEXIST: 'a file of that name already exists',
  ENOENT: 'no such file or directory',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'file name too long',
  EFBIG: 'file too large',
  EIO: 'input/output error',
};

/** "disk full (ENOSPC)" for a Node system error; the plain message for anything else. */
export function fsCause(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string' && CAUSES[code]) return `${CAUSES[code]} (${code})`;
  return err instanceof Error ? err.message : String(err);
}

/** True for a Node system error of the file system (an errno code we name above). */
export function isFsError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && code in CAUSES;
}
