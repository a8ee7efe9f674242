// Lambda: list the packages of the request's App Registry org. The full listing is kept in
// the stage record; the state machine only gets the names, for the fetch Map to fan out on.
import { listPackages } from '../lib/stages/list-packages.js';
import { parseAppRegistry } from './commons/parse.js';
import { MetricUnit } from './commons/powertools.js';
import { credentialsFor } from './commons/runtime.js';
import { requireString, stageHandler } from './commons/stage-handler.js';

export const handler = stageHandler({
  stage: 'list-packages',
  parse: (input) => ({
    buildId: requireString(input, 'buildId'),
    appRegistry: parseAppRegistry(input),
  }),
  run: async (request, deps, runtime) =>
    listPackages(request, { ...deps, credentials: await credentialsFor(runtime, request) }),
  output: (result) => ({
    count: result.packages.length,
    names: result.packages.map((p) => p.name),
  }),
  measure: (result, add) => add('PackagesListed', MetricUnit.Count, result.packages.length),
});
