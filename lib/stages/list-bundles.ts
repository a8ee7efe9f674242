// Stage: list the bundles of a pipeline build for its fan-out, as list-packages lists an
// org's packages. The references are the request's (already validated); what this adds is
// the work list in the store — one JSON array, the Distributed Map's ItemReader input — so
// the execution state never holds the references (50,000 of them would not fit its 256 KB).
// Each fan-out iteration gets only its index and reads its reference from the stored request.
import { buildKeys } from '../store/keys.js';
import { putJson } from '../store/store.js';
import type { ListBundlesRequest, ListBundlesResult, StageDeps } from './types.js';

export async function listBundles(
  request: ListBundlesRequest,
  deps: StageDeps,
): Promise<ListBundlesResult> {
  const itemsKey = buildKeys(request.buildId).bundleRefs;
  await putJson(deps.store, itemsKey, request.bundles);
  deps.log.info('listed bundle images', { count: request.bundles.length, itemsKey });
  return { buildId: request.buildId, count: request.bundles.length, itemsKey };
}
