// Lambda: one iteration of the fetch Map. The event names the package; its release and
// digest come from the listing recorded by list-packages (kept out of the execution state).

import { fetchPackage } from '../lib/stages/fetch-package.js';
import { readStageRecord } from '../lib/stages/stage-results.js';
import type { ListPackagesResult, PackageRef } from '../lib/stages/types.js';
import { parseAppRegistry } from './commons/parse.js';
import { MetricUnit } from './commons/powertools.js';
import { credentialsFor } from './commons/runtime.js';
import { InvalidEventError, requireString, stageHandler } from './commons/stage-handler.js';

export const handler = stageHandler({
  stage: 'fetch-package',
  parse: (input) => ({
    buildId: requireString(input, 'buildId'),
    appRegistry: parseAppRegistry(input),
    name: requireString(input, 'name'),
  }),
  item: (request) => request.name,
  run: async ({ buildId, appRegistry, name }, deps, runtime) => {
    const listing = await readStageRecord<ListPackagesResult>(deps.store, buildId, 'list-packages');
    const ref: PackageRef | undefined = listing?.result?.packages.find((p) => p.name === name);
    if (!ref)
      throw new InvalidEventError(
        `validating the event: package ${name} is not in the listing of build ${buildId}`,
      );
    return fetchPackage(
      { buildId, appRegistry, package: ref },
      { ...deps, credentials: await credentialsFor(runtime, { appRegistry }) },
    );
  },
  output: (result) => ({ name: result.name, digest: result.digest }),
  measure: (result, add) => {
    add('PackagesDownloaded', MetricUnit.Count, result.downloaded ? 1 : 0);
    add('BytesDownloaded', MetricUnit.Bytes, result.downloaded ? result.size : 0);
  },
});
