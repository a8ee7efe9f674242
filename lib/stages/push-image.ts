// Stage push-image: send the planned image to `--to` — a registry, an OCI layout
// (`oci:<dir>[:tag]`) or oc's `file://` layout under `--dir`. Blobs first, in parallel within
// --max-per-registry: HEAD (already there) → cross-repository mount when the base lives on the
// same registry → upload from the store, or a stream copy from the base's registry/layout.
// Then the per-platform manifests by digest, and the tag LAST (index or single manifest), and
// only once every blob is confirmed: a failed run leaves the tag as it was, never a half image.
// One registry client serves the destination and the base's blobs, so --max-per-registry
// bounds every request to a registry; an upload opens its source before it takes a slot, so a
// copy within one registry cannot wait on itself.
import type { Readable } from 'node:stream';
import { mapAll } from '../http/limiter.js';
import {
  checkImagePlan,
  type ImagePlan,
  type PlanBlob,
  type PlanManifest,
} from '../image/image-plan.js';
import { parseDestinationLocation } from '../image/location.js';
import { withDigest } from '../image/reference.js';
import type { Descriptor } from '../image/types.js';
import { FileLayout } from '../registry/file-destination.js';
import { OciLayout } from '../registry/oci-layout.js';
import {
  type BlobBody,
  type BlobCounters,
  countBlob,
  emptyBlobCounters,
  type RegistryClient,
} from '../registry/registry-client.js';
import { getJson, type Store, StoreNotFoundError } from '../store/store.js';
import { type ImageStageDeps, openRegistryClient } from './assemble-image.js';
import type { PushImageRequest, PushImageResult } from './types.js';

/** Runs every task, then throws the first failure (so no upload is left running unobserved). */
async function settleAll<T>(tasks: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(tasks);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

/** A fresh stream of a planned blob from wherever it lives (called again when an upload restarts). */
function blobOpener(
  blob: PlanBlob,
  store: Store,
  source: () => Promise<RegistryClient>,
): () => AsyncIterable<Uint8Array> {
  const s = blob.source;
  return () =>
    (async function* () {
      let stream: Readable;
      if (s.kind === 'store') stream = await store.getStream(s.key);
      else if (s.kind === 'registry')
        stream = await (await source()).getBlobStream(s.registry, s.repository, blob.digest);
      else if (s.kind === 'oci') stream = new OciLayout(s.dir).blobStream(blob.digest);
      else stream = new FileLayout(s.dir, s.path).blobStream(blob.digest);
      yield* stream as AsyncIterable<Uint8Array>;
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
async function loadManifests(
  plan: ImagePlan,
  store: Store,
): Promise<{ entry: PlanManifest; bytes: Uint8Array }[]> {
  const entries = [...plan.manifests, ...(plan.index ? [plan.index] : [])];
  return Promise.all(entries.map(async (entry) => ({ entry, bytes: await store.get(entry.key) })));
}

export async function pushImage(
  request: PushImageRequest,
  deps: ImageStageDeps,
): Promise<PushImageResult> {
  const plan = checkImagePlan(await getJson<unknown>(deps.store, request.imageKey));
  const dest = parseDestinationLocation(request.to);
  const counters = emptyBlobCounters();
  const manifests = await loadManifests(plan, deps.store);
  await checkStoreBlobs(plan, deps.store);
  const top = manifests.find((m) => m.entry.digest === plan.top.digest)!;

  let opened: Promise<{ client: RegistryClient; owned: boolean }> | undefined;
  const source = async (): Promise<RegistryClient> => {
    opened ??= openRegistryClient(deps, {
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
    return (await opened).client;
  };

  try {
    if (dest.kind === 'registry') {
      const client = await source();
      const ref = dest.ref;
      const outcomes = await settleAll(
        plan.blobs.map(async (blob) => {
          const s = blob.source;
          const mountFrom =
            s.kind === 'registry' && s.registry === ref.registry ? s.repository : undefined;
          const body: BlobBody = blobOpener(blob, deps.store, source);
          const outcome = await client.pushBlob(ref.registry, ref.repository, blob, {
            body,
            ...(mountFrom ? { mountFrom } : {}),
          });
          countBlob(counters, outcome, blob.size);
          return outcome;
        }),
      );
      deps.log.debug('blobs confirmed', { to: String(ref), blobs: outcomes.length });
      // Every blob is confirmed: per-platform manifests by digest, then the tag.
      await settleAll(
        manifests
          .filter((m) => m !== top)
          .map((m) =>
            client.putManifest(withDigest(ref, m.entry.digest), m.bytes, m.entry.mediaType),
          ),
      );
      await client.putManifest(ref, top.bytes, top.entry.mediaType);
    } else if (dest.kind === 'oci') {
      const layout = new OciLayout(dest.dir);
      await writeLayoutBlobs(plan, deps.store, source, counters, (b, open) =>
        layout.writeBlob(b.digest, b.size, open),
      );
      for (const m of manifests) await layout.writeBlob(m.entry.digest, m.bytes.length, m.bytes);
      const descriptor: Descriptor = {
        mediaType: top.entry.mediaType,
        digest: top.entry.digest,
        size: top.bytes.length,
      };
      await layout.setTag(descriptor, dest.tag);
    } else if (dest.kind === 'file') {
      const layout = new FileLayout(request.dir ?? '.', dest.path);
      await writeLayoutBlobs(plan, deps.store, source, counters, (b, open) =>
        layout.writeBlob(b.digest, b.size, open),
      );
      for (const m of manifests) await layout.writeManifest(m.bytes, m.entry.digest);
      await layout.setTag(dest.tag, top.entry.digest);
    }
  } finally {
    const o = await opened?.catch(() => undefined);
    if (o?.owned) await o.client.close();
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

/** Blobs written to a directory layout at once (disk-bound; the bound keeps open files low). */
const LAYOUT_WRITES = 4;

/** Blobs into a directory layout, a few at a time. */
async function writeLayoutBlobs(
  plan: ImagePlan,
  store: Store,
  source: () => Promise<RegistryClient>,
  counters: BlobCounters,
  write: (blob: PlanBlob, open: () => AsyncIterable<Uint8Array>) => Promise<boolean>,
): Promise<void> {
  await mapAll(plan.blobs, LAYOUT_WRITES, async (blob) => {
    const wrote = await write(blob, blobOpener(blob, store, source));
    countBlob(counters, wrote ? 'uploaded' : 'present', blob.size);
  });
}
