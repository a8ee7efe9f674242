// Lambda: list a bundle build's images for the fan-out, as list-packages lists an org. The
// references come from the stored request (the execution input carries only their count,
// lib/stages/build-request.ts `executionInput`); they are written to the bucket as one JSON
// array, and the state machine gets their indexes inline while the inline Map holds them
// (functions/commons/fan-out.ts), else only the key for the Distributed Map's ItemReader.
import { listBundles } from '../lib/stages/list-bundles.js';
import { listingOutput } from './commons/fan-out.js';
import { InvalidEventError, requireString } from './commons/parse.js';
import { MetricUnit } from './commons/powertools.js';
import { stageHandler } from './commons/stage-handler.js';
import { storedBundleRequest } from './commons/stored-request.js';

export const handler = stageHandler({
  stage: 'list-bundles',
  parse: (input) => ({ buildId: requireString(input, 'buildId') }),
  run: async ({ buildId }, deps) => {
    const { bundles } = await storedBundleRequest(deps.store, buildId);
    if (!bundles)
      throw new InvalidEventError(
        `validating the event: the request of build ${buildId} names no bundles`,
      );
    return listBundles({ buildId, bundles }, deps);
  },
  output: (result) =>
    listingOutput(
      Array.from({ length: result.count }, (_, i) => i),
      result.itemsKey,
    ),
  measure: (result, add) => add('BundlesListed', MetricUnit.Count, result.count),
});
