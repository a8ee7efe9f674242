// Stage assemble-image: resolve the base (`--from`: whatever ImageSource the location
// names — registry, `oci:` layout, `file://`, or scratch), keep the platforms --filter-by-os selects, build the catalog layer the index format asks for (catalog-formats.ts) from the store, and
// append it to each platform image. Our new blobs (layer, configs, manifests, index) go to the
// store under blobs/sha256/<hex> (the layer streamed there through the build's folder, never
// held whole); base layers stay where they are and the plan
// (`builds/<id>/image.json`) records where push finds each one, so base bytes are read only if
// the destination cannot mount them. Returns small JSON (digests), never bytes.

import { randomBytes } from 'node:crypto';
import { createdFromInput, formatCreated } from '../image/append.js';
import { type Assembled, assembleImages } from '../image/assemble.js';
import type { ImagePlan, PlanBlob, PlanManifest } from '../image/image-plan.js';
import {
  type LayerContent,
  type LayerDigests,
  type LayerStream,
  streamTreeLayer,
} from '../image/layer.js';
import { parseSourceLocation } from '../image/location.js';
import type { ResolvedBase } from '../image/ports.js';
import type { Raw } from '../image/types.js';
import { catalogImageContent, DEFAULT_INDEX_FORMAT } from '../index/catalog-formats.js';
import { DB_FILE } from '../index/write-index.js';
import { openImageSource } from '../layout/image-ports.js';
import { registryClientOnDemand } from '../registry/open-client.js';
import { blobKey, buildKeys } from '../store/keys.js';
import { putJson, type Store, StoreNotFoundError } from '../store/store.js';
import type { AssembleImageRequest, AssembleImageResult, ImageStageDeps } from './types.js';

/**
 * A store object read only when the layer reaches it (a catalog can be thousands of files).
 * A failed read is noted in `failures`, so the stage reports it as itself (a temporary store
 * error stays temporary) rather than as the layer write it broke.
 */
function lazyContent(store: Store, key: string, size: number, failures: unknown[]): LayerContent {
  return {
    size,
    data: (async function* () {
      try {
        yield* await store.getStream(key);
      } catch (err) {
        failures.push(err);
        throw err;
      }
    })(),
  };
}

/**
 * The build's catalog files the image is made of (`sources`: paths, or prefixes ending in
 * '/'), as output path → lazily read content. A missing file is an error; an empty prefix
 * gives nothing (a catalog of no packages).
 */
async function catalogOutputs(
  store: Store,
  request: AssembleImageRequest,
  sources: readonly string[],
  failures: unknown[],
): Promise<Array<{ path: string; data: LayerContent }>> {
  buildKeys(request.buildId); // validates the id
  const base = `builds/${request.buildId}/`;
  // The request names the DB's key itself (it may be another build's, e.g. a re-assembly).
  const keyOf = (path: string) => (path === DB_FILE && request.dbKey ? request.dbKey : base + path);
  const out: Array<{ path: string; data: LayerContent }> = [];
  for (const source of sources) {
    if (source.endsWith('/')) {
      for (const o of await store.list(base + source))
        out.push({
          path: o.key.slice(base.length),
          data: lazyContent(store, o.key, o.size, failures),
        });
      continue;
    }
    const key = keyOf(source);
    const info = await store.head(key);
    if (!info)
      throw new StoreNotFoundError(`reading ${key} from ${store.location}: no such object`);
    out.push({ path: source, data: lazyContent(store, key, info.size, failures) });
  }
  return out;
}

/**
 * Streams the layer into the store under the build (its digest is known only at its end), at
 * a key of this attempt's own (a failed attempt removes it), then moves it to its
 * content-addressed key; an identical layer already there is kept. The DB and the layer pass
 * through in chunks: memory does not grow with the catalog's size.
 */
async function writeLayer(
  store: Store,
  uploadKey: string,
  start: () => LayerStream,
  readFailures: readonly unknown[],
): Promise<LayerDigests> {
  const layer = start();
  try {
    await store.putStream(uploadKey, layer.bytes);
  } catch (err) {
    await store.delete(uploadKey).catch(() => {});
    throw readFailures.length > 0 ? readFailures[0] : err;
  }
  try {
    const digests = await layer.digests;
    await store.move(uploadKey, blobKey(digests.digest), { ifNoneMatch: true });
    return digests;
  } catch (err) {
    // This attempt's own object: nothing else reads it, so it goes (a failed delete must
    // not hide the error that matters).
    await store.delete(uploadKey).catch(() => {});
    throw err;
  }
}

export async function assembleImage(
  request: AssembleImageRequest,
  deps: ImageStageDeps,
): Promise<AssembleImageResult> {
  const keys = buildKeys(request.buildId);
  const registry = registryClientOnDemand(deps, request);
  try {
    const source = openImageSource(parseSourceLocation(request.from), {
      registry: registry.get,
      fileRoot: request.fromDir,
    });
    deps.progress?.({
      kind: 'info',
      message: `using ${source.name} as a base image for building`,
    });
    const base = await source.resolve(request.filterByOs);

    const epoch = request.sourceDateEpoch;
    const content = catalogImageContent<LayerContent>(request.indexFormat ?? DEFAULT_INDEX_FORMAT);
    const readFailures: unknown[] = [];
    const outputs = await catalogOutputs(deps.store, request, content.sources, readFailures);
    const layer = await writeLayer(
      deps.store,
      keys.layerUpload(randomBytes(8).toString('hex')),
      () => streamTreeLayer(content.entries(outputs), { mtime: epoch ?? 0 }),
      readFailures,
    );
    // From the input, not the clock (see createdFromInput): unchanged input, same digest.
    const created = formatCreated(
      epoch ?? createdFromInput(base.bases.map((b) => b.image.config.value)),
    );
    const assembled = assembleImages(base.index, base.bases, layer, {
      created,
      createdBy: content.createdBy,
      ...(content.runConfig ? { runConfig: content.runConfig } : {}),
    });

    const plan = await writePlan(request, deps, source.name, base, assembled, layer, created);
    await putJson(deps.store, keys.image, plan);
    deps.log.info('assembled image', {
      buildId: request.buildId,
      from: source.name,
      digest: plan.top.digest,
      platforms: assembled.platforms.map((p) => p.platform),
      layerDigest: layer.digest,
      layerSize: layer.size,
    });
    return {
      buildId: request.buildId,
      imageKey: keys.image,
      digest: plan.top.digest,
      mediaType: plan.top.mediaType,
      platforms: assembled.platforms.map((p) => ({
        platform: p.platform,
        manifestDigest: p.image.manifest.digest,
        configDigest: p.image.config.digest,
        layerDigest: layer.digest,
      })),
    };
  } finally {
    await registry.close();
  }
}

async function writePlan(
  request: AssembleImageRequest,
  deps: ImageStageDeps,
  from: string,
  base: ResolvedBase,
  assembled: Assembled,
  layer: { digest: string; size: number },
  created: string,
): Promise<ImagePlan> {
  const blobs = new Map<string, PlanBlob>();
  const manifests: PlanManifest[] = [];
  const putDoc = async (raw: Raw<unknown>) => {
    const key = blobKey(raw.digest);
    await deps.store.put(key, raw.bytes, { contentType: raw.mediaType, ifNoneMatch: true });
    return key;
  };
  for (const p of assembled.platforms) {
    const m = p.image.manifest.value;
    const baseLayers = new Set(p.base.image.manifest.value.layers.map((l) => l.digest));
    await putDoc(p.image.config);
    blobs.set(p.image.config.digest, {
      digest: p.image.config.digest,
      size: p.image.config.bytes.length,
      mediaType: p.image.config.mediaType,
      source: { kind: 'store', key: blobKey(p.image.config.digest) },
    });
    for (const l of m.layers) {
      if (blobs.has(l.digest)) continue;
      const fromBase = baseLayers.has(l.digest) && base.source;
      blobs.set(l.digest, {
        digest: l.digest,
        size: l.size,
        mediaType: l.mediaType,
        source: fromBase ? base.source! : { kind: 'store', key: blobKey(layer.digest) },
      });
    }
    manifests.push({
      digest: p.image.manifest.digest,
      size: p.image.manifest.bytes.length,
      mediaType: p.image.manifest.mediaType,
      key: await putDoc(p.image.manifest),
      platform: p.platform,
      blobs: [m.config.digest, ...m.layers.map((l) => l.digest)],
    });
  }
  const plan: ImagePlan = {
    version: 1,
    buildId: request.buildId,
    from,
    ...(base.baseDigest ? { baseDigest: base.baseDigest } : {}),
    created,
    manifests,
    top: assembled.top,
    blobs: [...blobs.values()],
  };
  if (assembled.index) {
    plan.index = {
      digest: assembled.index.digest,
      size: assembled.index.bytes.length,
      mediaType: assembled.index.mediaType,
      key: await putDoc(assembled.index),
    };
  }
  return plan;
}
