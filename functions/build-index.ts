// Lambda: build the catalog (the request's index format) from the fetched packages or the
// pulled bundles — both read from their stage records, since the fan-out Maps' outputs are
// dropped — from the bundle folders under a key prefix of the bucket (`bundlePrefix`, read
// by the stage itself), or, for local runs, from a manifests directory.
import { buildIndex } from '../lib/stages/build-index.js';
import { readFetchedBundles } from '../lib/stages/stage-results.js';
import type { BuildIndexRequest } from '../lib/stages/types.js';
import {
  imageOptions,
  parseDecodeLimits,
  parseIndexFormat,
  requestFields,
  requireString,
} from './commons/parse.js';
import { MetricUnit } from './commons/powertools.js';
import { stageHandler } from './commons/stage-handler.js';

/** The Lambda's memory size (MB), as the runtime announces it. */
function memoryLimit(): { memoryLimitMb?: number } {
  const mb = Number(process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE);
  return Number.isInteger(mb) && mb > 0 ? { memoryLimitMb: mb } : {};
}

/** A bundle build: the execution input names its bundles (or, as started, their count). */
const isBundleBuild = (input: Record<string, unknown>) =>
  input.bundles !== undefined || input.bundleCount !== undefined;

export const handler = stageHandler({
  stage: 'build-index',
  parse: (input) => {
    const request: BuildIndexRequest = { buildId: requireString(input, 'buildId') };
    const { bundlePrefix } = requestFields(input, ['bundles', 'bundlePrefix']);
    const bundles = isBundleBuild(input);
    if (bundlePrefix !== undefined) request.bundlePrefix = bundlePrefix;
    else if (!bundles && input.appRegistry === undefined)
      request.manifestDir = requireString(input, 'manifestDir');
    const { sourceDateEpoch } = imageOptions(input);
    if (sourceDateEpoch !== undefined) request.sourceDateEpoch = sourceDateEpoch;
    const decodeLimits = parseDecodeLimits(input);
    if (decodeLimits) request.decodeLimits = decodeLimits;
    const indexFormat = parseIndexFormat(input);
    if (indexFormat) request.indexFormat = indexFormat;
    return { ...request, fromBundles: bundles };
  },
  // Without packages, bundles or a directory the stage reads the fetch records itself.
  // The function's memory size bounds the build: one that would not fit fails at once with
  // IndexMemoryLimitError naming the setting to raise, instead of being killed out of memory.
  run: async ({ fromBundles, ...request }: BuildIndexRequest & { fromBundles: boolean }, deps) => {
    const pulled = fromBundles ? await readFetchedBundles(deps.store, request.buildId) : {};
    return buildIndex({ ...request, ...pulled }, { ...deps, ...memoryLimit() });
  },
  measure: (result, add) => {
    add('BundlesLoaded', MetricUnit.Count, result.totals.bundles);
    add('PackagesLoaded', MetricUnit.Count, result.totals.packages);
    add('LoadWarnings', MetricUnit.Count, result.warningCount);
    add('IndexDbBytes', MetricUnit.Bytes, result.dbSize);
  },
});
