// The image plan (`builds/<id>/image.json`): everything push needs, written by assemble. Bytes
// never travel between stages, so the plan names where each blob comes from — a store key
// (our layer, configs, manifests, index), the base's registry repository (mounted or copied
// registry-to-registry) or the base's OCI layout directory — and lists the manifests to PUT in
// order (per-platform first, then what the tag points at). Checked on read, because push may run
// in another process (Lambda) from a plan that crossed a store.
import { StoreError } from '../errors.js';
import { isSha256Digest } from './reference.js';

export type BlobSource =
  | { kind: 'store'; key: string }
  | { kind: 'registry'; registry: string; repository: string }
  | { kind: 'oci'; dir: string }
  | { kind: 'file'; dir: string; path: string };

export interface PlanBlob {
  digest: string;
  size: number;
  mediaType: string;
  source: BlobSource;
}

export interface PlanManifest {
  digest: string;
  size: number;
  mediaType: string;
  /** Store key of the exact manifest bytes. */
  key: string;
  /** `os/arch[/variant]`, absent for an index. */
  platform?: string;
  /** Digests of the blobs this manifest references (config first), all in `blobs`. */
  blobs?: string[];
}

export interface ImagePlan {
  version: 1;
  buildId: string;
  /** `--from` as resolved (for reports). */
  from: string;
  /** Digest of the base document that was read (index or manifest), when there was a base. */
  baseDigest?: string;
  created: string;
  /** One per platform, in the order they are pushed. */
  manifests: PlanManifest[];
  /** The new index when several platforms were kept. */
  index?: PlanManifest;
  /** What the tag points at: `index` when present, else the single manifest. */
  top: { digest: string; size: number; mediaType: string };
  blobs: PlanBlob[];
}

/** The plan in the store is not one assemble-image wrote (corrupt, hand-edited, other version). */
export class InvalidImagePlanError extends StoreError {
  override name = 'InvalidImagePlanError';
}

function check(cond: unknown, what: string): asserts cond {
  if (!cond) throw new InvalidImagePlanError(`reading image plan: ${what}`);
}

/** Validates a parsed plan's shape and every digest in it. */
export function checkImagePlan(value: unknown): ImagePlan {
  const p = value as ImagePlan;
  check(p && typeof p === 'object' && p.version === 1, 'unsupported version');
  check(Array.isArray(p.manifests) && p.manifests.length > 0, 'no manifests');
  check(Array.isArray(p.blobs), 'no blobs');
  check(p.top && isSha256Digest(p.top.digest), 'bad top digest');
  const blobDigests = new Set<string>();
  for (const b of p.blobs) {
    check(isSha256Digest(b.digest), `bad blob digest ${String(b.digest)}`);
    check(Number.isSafeInteger(b.size) && b.size >= 0, `bad size for ${b.digest}`);
    check(
      b.source && ['store', 'registry', 'oci', 'file'].includes(b.source.kind),
      `bad source for ${b.digest}`,
    );
    blobDigests.add(b.digest);
  }
  for (const m of [...p.manifests, ...(p.index ? [p.index] : [])]) {
    check(isSha256Digest(m.digest), `bad manifest digest ${String(m.digest)}`);
    check(typeof m.key === 'string', `no key for manifest ${m.digest}`);
    for (const d of m.blobs ?? [])
      check(blobDigests.has(d), `manifest ${m.digest} references unknown blob ${d}`);
  }
  check(
    (p.index ?? p.manifests[0])!.digest === p.top.digest,
    'top is neither the index nor the manifest',
  );
  return p;
}
