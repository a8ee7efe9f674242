// The caps on one archive we unpack in memory — an App Registry package blob or an image's
// layers (bundle and catalog images) — so a hostile archive (a gzip bomb, a million entries,
// one huge file) costs at most the cap in memory and time. One set of limits and one bound on
// gunzip's output for both callers; `--max-package-entries`, `--max-file-size` and
// `--max-package-size` set them.

export interface DecodeLimits {
  /** Tar entries per archive (directories and links included). */
  maxEntries: number;
  /** Uncompressed bytes of one regular file. */
  maxFileBytes: number;
  /** Uncompressed bytes of all regular files of one archive together. */
  maxTotalBytes: number;
}

/**
 * Defaults sized from real catalogs with wide margin: the 41-package dev corpus has at most
 * ~110 files (konveyor-operator) and 1.4 MB (eclipse-che) per package, and a Kubernetes
 * object cannot exceed etcd's ~1.5 MiB request limit, so a manifest over 64 MiB is not a
 * manifest. 10 000 entries and 256 MiB per package leave ~100x headroom for the largest
 * redhat-operators packages while keeping one package's worst case within a 1 GiB Lambda.
 */
export const DEFAULT_DECODE_LIMITS: Readonly<DecodeLimits> = Object.freeze({
  maxEntries: 10_000,
  maxFileBytes: 64 * 1024 * 1024,
  maxTotalBytes: 256 * 1024 * 1024,
});

/** Largest PAX or GNU long-name record the tar reader accepts. */
export const MAX_META_BYTES = 1024 * 1024;

/** Room for tar headers and padding (≤ 1 KiB per entry) besides the files themselves. */
const TAR_OVERHEAD_PER_ENTRY = 1024;

/** The most bytes gunzip may produce for an archive within `caps` (its `maxOutputLength`). */
export function maxTarBytes(caps: DecodeLimits): number {
  return caps.maxTotalBytes + (caps.maxEntries + 2) * TAR_OVERHEAD_PER_ENTRY + MAX_META_BYTES;
}
