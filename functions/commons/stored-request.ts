// The build request a fan-out iteration reads from the store (builds/<id>/request.json)
// instead of its event: the event of one bundle carries only the build id and the bundle's
// index, so the execution state never holds the reference list nor the request's options.
// A warm container serves many iterations of one build, so the request is read once per
// build and kept; it is checked by the one request schema, as the API checked it.
import type { BuildRequest } from '../../lib/stages/types.js';
import { buildKeys } from '../../lib/store/keys.js';
import { getJson, type Store } from '../../lib/store/store.js';
import { requestFields } from './parse.js';

/** The request fields the bundle stages read. */
export type StoredBundleRequest = Pick<
  BuildRequest,
  'bundles' | 'insecure' | 'maxPerRegistry' | 'registryAuthSecret' | 'timeouts' | 'maxManifestBytes'
>;

let cached: { buildId: string; request: StoredBundleRequest } | undefined;

export async function storedBundleRequest(
  store: Store,
  buildId: string,
): Promise<StoredBundleRequest> {
  if (cached?.buildId !== buildId) {
    const raw = await getJson<Record<string, unknown>>(store, buildKeys(buildId).request);
    const request = requestFields(raw, [
      'bundles',
      'insecure',
      'maxPerRegistry',
      'registryAuthSecret',
      'timeouts',
      'maxManifestBytes',
    ]);
    cached = { buildId, request };
  }
  return cached.request;
}
