// Lambda: list the packages of the request's App Registry org. The full listing is kept in
// the stage record, and the names alone as a JSON array (the Distributed Map's ItemReader
// input). The state machine gets the names inline only while the inline Map holds them
// (functions/commons/fan-out.ts); above that only the key, and a Distributed Map fans out.
import { listPackages } from '../lib/stages/list-packages.js';
import { buildKeys } from '../lib/store/keys.js';
import { putJson } from '../lib/store/store.js';
import { INLINE_MAP_MAX_ITEMS, listingOutput } from './commons/fan-out.js';
import { parseAppRegistry, requireString } from './commons/parse.js';
import { MetricUnit } from './commons/powertools.js';
import { credentialsFor } from './commons/runtime.js';
import { stageHandler } from './commons/stage-handler.js';

/** The largest org fanned out by the inline Map (docs/DEPLOY.md, "Org sizes"). */
export const INLINE_MAP_MAX_PACKAGES = INLINE_MAP_MAX_ITEMS;
export { listingOutput };

export const handler = stageHandler({
  stage: 'list-packages',
  parse: (input) => ({
    buildId: requireString(input, 'buildId'),
    appRegistry: parseAppRegistry(input),
  }),
  run: async (request, deps, runtime) => {
    const result = await listPackages(request, {
      ...deps,
      credentials: await credentialsFor(runtime, request),
    });
    const itemsKey = buildKeys(request.buildId).packageNames;
    await putJson(
      deps.store,
      itemsKey,
      result.packages.map((p) => p.name),
    );
    return { ...result, itemsKey };
  },
  output: (result) =>
    listingOutput(
      result.packages.map((p) => p.name),
      result.itemsKey,
    ),
  measure: (result, add) => add('PackagesListed', MetricUnit.Count, result.packages.length),
});
