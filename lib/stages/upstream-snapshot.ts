// What the upstream watcher compares: the releases and digests of an org's packages, kept
// at upstream/<host>/<org>/snapshot.json. A successful build writes it (from its own
// listing), so the watcher starts a build only when upstream moved past the last good one.
import { createHash } from 'node:crypto';
import { snapshotKey } from '../store/keys.js';
import { getJson, putJson, type Store, StoreNotFoundError } from '../store/store.js';
import type { AppRegistrySource, PackageRef } from './types.js';

export interface UpstreamSnapshot {
  endpoint: string;
  org: string;
  /** Package name → release and blob digest, in name order. */
  packages: Record<string, { release: string; digest?: string }>;
  buildId?: string;
}

export function snapshotOf(
  source: AppRegistrySource,
  packages: PackageRef[],
  buildId?: string,
): UpstreamSnapshot {
  const sorted = [...packages].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: UpstreamSnapshot = { endpoint: source.endpoint, org: source.org, packages: {} };
  for (const p of sorted)
    out.packages[p.name] = p.digest
      ? { release: p.release, digest: p.digest }
      : { release: p.release };
  if (buildId) out.buildId = buildId;
  return out;
}

/** A short stable fingerprint of the package set (names, releases, digests). */
export function snapshotFingerprint(s: UpstreamSnapshot): string {
  return createHash('sha256').update(JSON.stringify(s.packages)).digest('hex').slice(0, 12);
}

/** Human-readable differences, empty when nothing changed. */
export function diffSnapshots(
  before: UpstreamSnapshot | undefined,
  after: UpstreamSnapshot,
): string[] {
  if (!before) return [`no snapshot of ${after.org} yet`];
  const changes: string[] = [];
  for (const [name, now] of Object.entries(after.packages)) {
    const was = before.packages[name];
    if (!was) changes.push(`${name}: added at ${now.release}`);
    else if (was.release !== now.release) changes.push(`${name}: ${was.release} → ${now.release}`);
    else if (was.digest !== now.digest)
      changes.push(`${name}: release ${now.release} has a new digest`);
  }
  for (const name of Object.keys(before.packages)) {
    if (!(name in after.packages)) changes.push(`${name}: removed`);
  }
  return changes;
}

export async function readSnapshot(
  store: Store,
  source: AppRegistrySource,
): Promise<UpstreamSnapshot | undefined> {
  try {
    return await getJson<UpstreamSnapshot>(store, snapshotKey(source.endpoint, source.org));
  } catch (err) {
    if (err instanceof StoreNotFoundError) return undefined;
    throw err;
  }
}

export async function writeSnapshot(store: Store, snapshot: UpstreamSnapshot): Promise<void> {
  await putJson(store, snapshotKey(snapshot.endpoint, snapshot.org), snapshot);
}
