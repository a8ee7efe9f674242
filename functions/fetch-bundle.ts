// Lambda: one iteration of the bundle Map — pull the bundle at the event's index into the
// content-addressed store (layers by digest; the result holds keys and digests only). Its
// reference and the registry options come from the stored request. A bundle that cannot be
// read is the iteration's outcome (recorded, reported, left out of the catalog); only a
// temporary error fails the iteration, for the state machine to retry.
import { fetchBundle } from '../lib/stages/fetch-bundle.js';
import { bundleItemName } from '../lib/stages/stage-results.js';
import { InvalidEventError, requireString } from './commons/parse.js';
import { MetricUnit } from './commons/powertools.js';
import { credentialsFor } from './commons/runtime.js';
import { stageHandler } from './commons/stage-handler.js';
import { storedBundleRequest } from './commons/stored-request.js';

function requireIndex(input: Record<string, unknown>): number {
  const v = input.index;
  if (!Number.isInteger(v) || (v as number) < 0)
    throw new InvalidEventError('validating the event: index must be a non-negative integer');
  return v as number;
}

export const handler = stageHandler({
  stage: 'fetch-bundle',
  parse: (input) => ({ buildId: requireString(input, 'buildId'), index: requireIndex(input) }),
  item: (request) => bundleItemName(request.index),
  run: async ({ buildId, index }, deps, runtime) => {
    const { bundles, insecure, maxPerRegistry, registryAuthSecret, timeouts, maxManifestBytes } =
      await storedBundleRequest(deps.store, buildId);
    const ref = bundles?.[index];
    if (ref === undefined)
      throw new InvalidEventError(
        `validating the event: build ${buildId} has no bundle ${index} (${bundles?.length ?? 0} listed)`,
      );
    return fetchBundle(
      {
        buildId,
        index,
        ref,
        ...(insecure ? { insecure } : {}),
        ...(maxPerRegistry ? { maxPerRegistry } : {}),
      },
      {
        ...deps,
        // The request's HTTP limits: the event of one bundle carries only its index.
        ...(timeouts ? { timeouts } : {}),
        ...(maxManifestBytes ? { maxManifestBytes } : {}),
        credentials: await credentialsFor(runtime, {
          ...(registryAuthSecret ? { registryAuthSecret } : {}),
        }),
      },
    );
  },
  output: (result) => ({ index: result.index, pulled: result.bundle !== undefined }),
  measure: (result, add) => {
    add('BundlesPulled', MetricUnit.Count, result.bundle ? 1 : 0);
    add('BundlesLeftOut', MetricUnit.Count, result.bundle ? 0 : 1);
    add('LayersDownloaded', MetricUnit.Count, result.bundle?.downloaded ?? 0);
  },
});
