// "What did this refresh change?": every successful build is compared with the previous
// successful build of the same target. The target is where the catalog goes (`to`), or,
// for a build that pushes nothing, where it comes from (App Registry org or manifests dir).
// The store keeps one small pointer per target, `targets/<hash>/last-success.json`, written
// by the report stage; it also remembers the build before, so a re-run of the same report
// still compares with the right one. The diff goes into report.json, report.md and the
// webhook payload; the marked graphs of changed packages go with it.
// The diff's modules (reading both databases, the graphs, Mermaid) are loaded when there is a
// previous build to compare with: every report asks for the pointer, a first build needs no
// more, and importing them cost a tenth of a small CLI build's start-up.
import { createHash } from 'node:crypto';
import type { CatalogDiff } from '../catalog/catalog-diff.js';
import type { CatalogGraph } from '../catalog/catalog-graph.js';
import { redactUrl } from '../redact.js';
import { getJson, putJson, type Store, StoreNotFoundError } from '../store/store.js';
import type { BuildRequest } from './types.js';

export interface BuildChanges extends CatalogDiff {
  previousBuildId: string;
  /** Per changed package (added and removed ones too): its graph with changes marked, as Mermaid. */
  graphs: Array<{ package: string; mermaid: string }>;
}

interface TargetPointer {
  target: string;
  buildId: string;
  previousBuildId: string | null;
}

/** The target a build refreshes, as text (credentials stripped). */
export function buildTarget(request: BuildRequest): string {
  if (request.to) return `to ${request.to}`;
  if (request.appRegistry)
    return `app-registry ${redactUrl(request.appRegistry.endpoint)} ${request.appRegistry.org}`;
  return `manifests ${request.manifestDir ?? ''}`;
}

export function targetPointerKey(target: string): string {
  return `targets/${createHash('sha256').update(target).digest('hex').slice(0, 32)}/last-success.json`;
}

async function pointerOf(store: Store, key: string): Promise<TargetPointer | undefined> {
  try {
    return await getJson<TargetPointer>(store, key);
  } catch (err) {
    if (err instanceof StoreNotFoundError) return undefined;
    throw err;
  }
}

/** The previous successful build of the target of `request`, if the store knows one. */
export async function previousBuildOf(
  store: Store,
  buildId: string,
  request: BuildRequest,
): Promise<string | undefined> {
  const pointer = await pointerOf(store, targetPointerKey(buildTarget(request)));
  if (!pointer) return undefined;
  return (pointer.buildId === buildId ? pointer.previousBuildId : pointer.buildId) ?? undefined;
}

/** Records `buildId` as the target's last successful build. */
export async function recordSuccess(
  store: Store,
  buildId: string,
  request: BuildRequest,
): Promise<void> {
  const target = buildTarget(request);
  const key = targetPointerKey(target);
  const previousBuildId = (await previousBuildOf(store, buildId, request)) ?? null;
  await putJson(store, key, { target, buildId, previousBuildId } satisfies TargetPointer);
}

async function graphOfBuild(store: Store, buildId: string): Promise<CatalogGraph | undefined> {
  const { graphOfStoredBuild } = await import('../catalog-source/read-catalog.js');
  return (await graphOfStoredBuild(store, buildId))?.graph;
}

/** The changes since `previousBuildId`, or undefined when either build has no index. */
export async function changesSince(
  store: Store,
  previousBuildId: string,
  buildId: string,
): Promise<BuildChanges | undefined> {
  // One after the other: each read holds its build's whole database while it makes the graph.
  const before = await graphOfBuild(store, previousBuildId);
  const after = before && (await graphOfBuild(store, buildId));
  if (!before || !after) return undefined;
  const { diffCatalogs } = await import('../catalog/catalog-diff.js');
  const { markedPackage, renderMarkedMermaid } = await import('../catalog/diff-graph.js');
  const diff = diffCatalogs(before, after, {
    old: `build ${previousBuildId}`,
    new: `build ${buildId}`,
  });
  const graphs = diff.packages.map((p) => ({
    package: p.name,
    mermaid: renderMarkedMermaid([markedPackage(before, after, p.name)]),
  }));
  return { ...diff, previousBuildId, graphs };
}
