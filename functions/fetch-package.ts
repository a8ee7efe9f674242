// Lambda: one iteration of the fetch Map. The event names the package; its release and
// digest come from the listing recorded by list-packages (kept out of the execution state).

import { fetchPackage } from '../lib/stages/fetch-package.js';
import { readStageRecord } from '../lib/stages/stage-results.js';
import type { DecodeLimitsRequest, ListPackagesResult, PackageRef } from '../lib/stages/types.js';
import { buildKeys } from '../lib/store/keys.js';
import { getJson, type Store, StoreNotFoundError } from '../lib/store/store.js';
import {
  httpLimits,
  InvalidEventError,
  parseAppRegistry,
  parseDecodeLimits,
  requireString,
} from './commons/parse.js';
import { MetricUnit } from './commons/powertools.js';
import { credentialsFor } from './commons/runtime.js';
import { stageHandler } from './commons/stage-handler.js';

// What this container knows of the build it last served: its listing and the decode caps
// of its request. A warm container handles many packages of one build, and re-reading a
// 1,000-package listing for each would cost more than the fetch.
interface BuildContext {
  buildId: string;
  packages: Map<string, PackageRef>;
  decodeLimits?: DecodeLimitsRequest;
  /** The request's timeouts (a Map item carries only the package's name). */
  limits: ReturnType<typeof httpLimits>;
}
let cached: BuildContext | undefined;

async function buildContext(store: Store, buildId: string, name: string): Promise<BuildContext> {
  // A name the cached listing lacks means the listing changed (a re-run): read it again.
  if (cached?.buildId !== buildId || !cached.packages.has(name)) {
    const [listing, request] = await Promise.all([
      readStageRecord<ListPackagesResult>(store, buildId, 'list-packages'),
      // A build started without a stored request has no caps; any other store failure
      // (throttling, access) must fail the fetch, not silently drop the request's caps.
      getJson<Record<string, unknown>>(store, buildKeys(buildId).request).catch((err: unknown) => {
        if (err instanceof StoreNotFoundError) return undefined;
        throw err;
      }),
    ]);
    const decodeLimits = request
      ? parseDecodeLimits(request as Record<string, unknown>)
      : undefined;
    cached = {
      buildId,
      packages: new Map(listing?.result?.packages.map((p) => [p.name, p])),
      ...(decodeLimits ? { decodeLimits } : {}),
      limits: request ? httpLimits(request as Record<string, unknown>) : {},
    };
  }
  return cached;
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
    const context = await buildContext(deps.store, buildId, name);
    const ref = context.packages.get(name);
    if (!ref)
      throw new InvalidEventError(
        `validating the event: package ${name} is not in the listing of build ${buildId}`,
      );
    return fetchPackage(
      { buildId, appRegistry, package: ref },
      {
        ...deps,
        ...context.limits,
        ...(context.decodeLimits ? { decodeLimits: context.decodeLimits } : {}),
        credentials: await credentialsFor(runtime, { appRegistry }),
      },
    );
  },
  output: (result) => ({ name: result.name, digest: result.digest }),
  measure: (result, add) => {
    add('PackagesDownloaded', MetricUnit.Count, result.downloaded ? 1 : 0);
    add('BytesDownloaded', MetricUnit.Bytes, result.downloaded ? result.size : 0);
  },
});
