// Stage push-image: send the planned image to `--to` — a registry, an OCI layout
// (`oci:<dir>[:tag]`) or oc's `file://` layout under `--dir`. Blobs first, in parallel within
// --max-per-registry: HEAD (already there) → cross-repository mount when the base lives on the
// same registry → upload from the store, or a stream copy from the base's registry/layout.
// Then the per-platform manifests by digest, and the tag LAST (index or single manifest), and
// only once every blob is confirmed: a failed run leaves the tag as it was, never a half image.
// One registry client serves the destination and the base's blobs, so --max-per-registry
// bounds every request to a registry; an upload opens its source before it takes a slot, so a
// copy within one registry cannot wait on itself.
import { checkImagePlan, type ImagePlan, type PlanBlob } from '../image/image-plan.js';
import { parseDestinationLocation } from '../image/location.js';
import type { ManifestBytes } from '../image/ports.js';
import { openImageSink, openPlanBlob, type PortContext } from '../layout/image-ports.js';
import { registryClientOnDemand } from '../registry/open-client.js';
import { countBlob, emptyBlobCounters } from '../registry/registry-client.js';
import { getJson, type Store, StoreNotFoundError } from '../store/store.js';
import type { ImageStageDeps, PushImageRequest, PushImageResult } from './types.js';

/** Runs every task, then throws the first failure (so no upload is left running unobserved). */
async function settleAll<T>(tasks: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(tasks);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

/** A fresh stream of a planned blob from wherever it lives (called again when an upload restarts). */
function blobOpener(blob: PlanBlob, ctx: PortContext): () => AsyncIterable<Uint8Array> {
  return () =>
    (async function* () {
      yield* await openPlanBlob(blob.source, blob.digest, ctx);
    })();
}

/** Fails fast, before the destination is touched, when a blob the plan keeps in the store is gone. */
async function checkStoreBlobs(plan: ImagePlan, store: Store): Promise<void> {
  await settleAll(
    plan.blobs.map(async (b) => {
      if (b.source.kind !== 'store') return;
      const info = await store.head(b.source.key);
      if (!info || info.size !== b.size) {
        throw new StoreNotFoundError(
          `reading ${b.source.key} from ${store.location}: ${info ? `size ${info.size}, plan says ${b.size}` : 'no such object'}`,
        );
      }
    }),
  );
}

/** The plan's manifests (per-platform, then the index) with their exact bytes from the store. */
async function loadManifests(plan: ImagePlan, store: Store): Promise<ManifestBytes[]> {
  const entries = [...plan.manifests, ...(plan.index ? [plan.index] : [])];
  return Promise.all(
    entries.map(async (e) => ({
      digest: e.digest,
      mediaType: e.mediaType,
      bytes: await store.get(e.key),
    })),
  );
}

export async function pushImage(
  request: PushImageRequest,
  deps: ImageStageDeps,
): Promise<PushImageResult> {
  const plan = checkImagePlan(await getJson<unknown>(deps.store, request.imageKey));
  const counters = emptyBlobCounters();
  const manifests = await loadManifests(plan, deps.store);
  await checkStoreBlobs(plan, deps.store);
  const top = manifests.find((m) => m.digest === plan.top.digest)!;

  // One client for the destination and the base's blobs: --max-per-registry bounds both.
  const registry = registryClientOnDemand(deps, {
    insecure: request.insecure,
    maxPerRegistry: request.maxPerRegistry,
    onProgress: (p) =>
      deps.progress?.({
        kind: 'upload',
        what: `${p.repository}@${p.digest}`,
        bytes: p.bytes,
        total: p.total,
        done: p.bytes >= p.total,
      }),
  });
  const ctx: PortContext = { registry: registry.get, fileRoot: request.dir, store: deps.store };
  try {
    const sink = openImageSink(parseDestinationLocation(request.to), ctx);
    await settleAll(
      plan.blobs.map(async (blob) => {
        countBlob(counters, await sink.putBlob(blob, blobOpener(blob, ctx)), blob.size);
      }),
    );
    deps.log.debug('blobs confirmed', { to: sink.name, blobs: plan.blobs.length });
    // Every blob is confirmed: per-platform manifests by digest, then the tag.
    await settleAll(manifests.filter((m) => m !== top).map((m) => sink.putManifest(m)));
    await sink.tag(top);
  } finally {
    await registry.close();
  }

  // As given, like oc's "Pushed … to <to>" line.
  const ref = request.to.trim();
  deps.log.info('pushed image', {
    buildId: request.buildId,
    to: ref,
    digest: plan.top.digest,
    ...counters,
  });
  return { buildId: request.buildId, ref, digest: plan.top.digest, blobs: counters };
}
