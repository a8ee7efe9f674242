// Lambda: one iteration of the fetch Map. The event names the package; its release and
// digest come from the listing recorded by list-packages (kept out of the execution state).

import { fetchPackage } from '../lib/stages/fetch-package.js';
import { readStageRecord } from '../lib/stages/stage-results.js';
import type { ListPackagesResult, PackageRef } from '../lib/stages/types.js';
import type { Store } from '../lib/store/store.js';
import { parseAppRegistry } from './commons/parse.js';
import { MetricUnit } from './commons/powertools.js';
import { credentialsFor } from './commons/runtime.js';
import { InvalidEventError, requireString, stageHandler } from './commons/stage-handler.js';

// The listing of the build this container last served: a warm container handles many
// packages of one build, and re-reading a 1,000-package listing for each would cost more
// than the fetch.
let listingCache: { buildId: string; packages: Map<string, PackageRef> } | undefined;

async function packageRef(
  store: Store,
  buildId: string,
  name: string,
): Promise<PackageRef | undefined> {
  // A name the cached listing lacks means the listing changed (a re-run): read it again.
  if (listingCache?.buildId !== buildId || !listingCache.packages.has(name)) {
    const listing = await readStageRecord<ListPackagesResult>(store, buildId, 'list-packages');
    listingCache = {
      buildId,
      packages: new Map(listing?.result?.packages.map((p) => [p.name, p])),
    };
  }
  return listingCache.packages.get(name);
}

export const handler = stageHandler({
  stage: 'fetch-package',
  parse: (input) => ({
    buildId: requireString(input, 'buildId'),
    appRegistry: parseAppRegistry(input),
    name: requireString(input, 'name'),
  }),
  item: (request) => request.name,
  run: async ({ buildId, appRegistry, name }, deps, runtime) => {
    const ref = await packageRef(deps.store, buildId, name);
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
