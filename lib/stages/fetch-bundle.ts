// Stage: pull bundle images (`--bundles`, like `opm index add --bundles`) without a container
// daemon, through the same registry client as the base image (auth, retries, per-registry
// limits, digest checks). Each image's manifest and config are read every time (a tag can
// move); its layers go into the content-addressed store once, so a rebuild downloads only new
// bundles. The result is small JSON (refs, digests, store keys) for build-index, which decodes
// the layers. `startBundlePulls` (the CLI) tries every bundle and then fails with one error
// naming each bundle that could not be pulled, as fetch-package does for App Registry
// packages; meanwhile build-index loads each bundle as soon as its own pull is done.
// `fetchBundle` is one iteration of the pipeline's fan-out (one Lambda, one bundle): there a
// bundle that cannot be read is an outcome, not a failure — the build goes on without it and
// the report names it — while a temporary error is thrown for the state machine to retry, so
// a registry outage fails the build instead of silently shrinking the catalog.
import { createHash } from 'node:crypto';
import { resolveBundleImage } from '../catalog-source/bundle-image.js';
import { CatalogError, describeError, ImageError, RegistryError } from '../errors.js';
import { mapSettled } from '../http/limiter.js';
import { parseReference } from '../image/reference.js';
import { openImageSource, type PortContext } from '../layout/image-ports.js';
import { registryClientOnDemand } from '../registry/open-client.js';
import { blobKey } from '../store/keys.js';
import type {
  FetchBundleRequest,
  FetchBundleResult,
  FetchedBundle,
  ImageStageDeps,
} from './types.js';

/** At least one bundle image could not be pulled; the message names each one. */
export class BundleImagesFailedError extends RegistryError {
  override name = 'BundleImagesFailedError';
}

export interface FetchBundlesRequest {
  buildId: string;
  bundles: readonly string[];
  insecure?: boolean;
  maxPerRegistry?: number;
}

export interface FetchBundleDeps extends ImageStageDeps {
  /** Bundles pulled at once (each is small); the client's per-registry limit still applies. */
  concurrency?: number;
  wrapItem?: (ref: string, run: () => Promise<FetchedBundle>) => Promise<FetchedBundle>;
}

const sha256 = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

async function fetchWith(
  ports: PortContext,
  ref: string,
  deps: FetchBundleDeps,
): Promise<FetchedBundle> {
  const source = openImageSource({ kind: 'registry', ref: parseReference(ref) }, ports);
  const image = await resolveBundleImage(source, ref);
  let downloaded = 0;
  const layers: FetchedBundle['layers'] = [];
  for (const layer of image.layers) {
    const key = blobKey(layer.digest);
    let have = false;
    if (await deps.store.head(key)) {
      have = sha256(await deps.store.get(key)) === layer.digest;
      if (!have)
        deps.log.warn('stored blob does not match its digest; downloading it again', { key, ref });
    }
    if (!have) {
      const bytes = await source.blob(layer.digest);
      await deps.store.put(key, bytes, { contentType: 'application/octet-stream' });
      downloaded++;
    }
    layers.push({ key, mediaType: layer.mediaType, size: layer.size });
  }
  return { ref, digest: image.digest, labels: image.labels, layers, downloaded };
}

/**
 * The pulls of a build's bundle images, under way: `each` settles per image (list order) as
 * soon as its layers are in the store, so build-index can load bundle i while later images are
 * still being pulled (pull and load overlap instead of pull-everything-then-load); `all`
 * settles once every pull has, with the fetched bundles or one BundleImagesFailedError naming
 * each image that failed. An image that failed rejects its `each` with that same error, once
 * every pull is done, so a load that reaches it fails as the whole pull does. The registry
 * client is closed before `all` settles.
 */
export interface BundlePulls {
  each: readonly Promise<FetchedBundle>[];
  all: Promise<FetchedBundle[]>;
}

/** Starts pulling every bundle image (`deps.concurrency` at once, 16 by default). */
export function startBundlePulls(request: FetchBundlesRequest, deps: FetchBundleDeps): BundlePulls {
  const settle: { resolve: (b: FetchedBundle) => void; reject: (e: unknown) => void }[] = [];
  const each = request.bundles.map(
    () =>
      new Promise<FetchedBundle>((resolve, reject) => {
        settle.push({ resolve, reject });
      }),
  );
  const all = (async () => {
    const registry = registryClientOnDemand(deps, request);
    try {
      const client = await registry.get();
      const ports: PortContext = { registry: async () => client };
      const one = (ref: string) => fetchWith(ports, ref, deps);
      const settled = await mapSettled(request.bundles, deps.concurrency ?? 16, async (ref, i) => {
        const bundle = await (deps.wrapItem ? deps.wrapItem(ref, () => one(ref)) : one(ref));
        settle[i]!.resolve(bundle);
        return bundle;
      });
      const failures: string[] = [];
      const fetched: FetchedBundle[] = [];
      settled.forEach((s, i) => {
        if (s.ok) fetched.push(s.value);
        else {
          const err = s.error as Error;
          failures.push(`${request.bundles[i]}: ${err.name ?? 'Error'}: ${err.message}`);
        }
      });
      if (failures.length > 0)
        throw new BundleImagesFailedError(
          `pulling bundle images: ${failures.length} of ${request.bundles.length} failed: ${failures.join('; ')}`,
        );
      return fetched;
    } finally {
      await registry.close();
    }
  })();
  // Whatever did not resolve gets the pull's one error (settling twice is a no-op).
  all.catch((err: unknown) => {
    for (const s of settle) s.reject(err);
  });
  // A caller that stops reading early (its load failed) must not leave rejections unhandled.
  for (const p of each) p.catch(() => {});
  return { each, all };
}

/**
 * A bundle problem (the build goes on without the bundle) rather than a build problem: what
 * the registry or the image said about this one image, permanently — not found, refused,
 * not a bundle, a digest mismatch, unreadable layers. Temporary errors, store errors and
 * programming errors are not: they fail the iteration.
 */
export function isBundleProblem(err: unknown): boolean {
  const known =
    err instanceof RegistryError || err instanceof ImageError || err instanceof CatalogError;
  return known && !err.temporary;
}

/** Pulls one bundle of a build (a fan-out iteration); a bundle problem becomes its outcome. */
export async function fetchBundle(
  request: FetchBundleRequest,
  deps: ImageStageDeps,
): Promise<FetchBundleResult> {
  const { index, ref } = request;
  const registry = registryClientOnDemand(deps, request);
  try {
    const client = await registry.get();
    const bundle = await fetchWith({ registry: async () => client }, ref, deps);
    return { index, ref, bundle };
  } catch (err) {
    if (!isBundleProblem(err)) throw err;
    const error = describeError(err);
    deps.log.warn(`bundle ${ref} left out: ${error.name}: ${error.message}`, { index });
    return { index, ref, error };
  } finally {
    await registry.close();
  }
}
