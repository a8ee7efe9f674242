// Lambda: build the catalog (the request's index format) from the fetched packages (read from their stage records,
// since the fetch Map's output is dropped), from bundle images (pulled here, bounded-parallel:
// a bundle is a few small blobs, so a 473-bundle build pulls in seconds, well inside the
// stage's timeout; no Map state yet), or, for local runs, from a manifests directory.
import { buildIndex } from '../lib/stages/build-index.js';
import { fetchBundles } from '../lib/stages/fetch-bundle.js';
import { runRecorded } from '../lib/stages/stage-results.js';
import type { BuildIndexRequest } from '../lib/stages/types.js';
import {
  imageOptions,
  parseDecodeLimits,
  parseIndexFormat,
  requestFields,
} from './commons/parse.js';
import { MetricUnit } from './commons/powertools.js';
import { credentialsFor } from './commons/runtime.js';
import { requireString, stageHandler } from './commons/stage-handler.js';

/** The Lambda's memory size (MB), as the runtime announces it. */
function memoryLimit(): { memoryLimitMb?: number } {
  const mb = Number(process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE);
  return Number.isInteger(mb) && mb > 0 ? { memoryLimitMb: mb } : {};
}

/** A bundle-image build: the references and the registry options to pull them with. */
interface BundlePull {
  bundles: string[];
  insecure?: boolean | undefined;
  maxPerRegistry?: number | undefined;
  registryAuthSecret?: string | undefined;
}

/** A bundle reference as a stage record item (a path segment): readable, unique by position. */
function bundleItem(ref: string, index: number): string {
  return `${String(index).padStart(5, '0')}-${ref.replace(/[^A-Za-z0-9._-]+/g, '_')}`.slice(0, 200);
}

export const handler = stageHandler({
  stage: 'build-index',
  parse: (input) => {
    const request: BuildIndexRequest = { buildId: requireString(input, 'buildId') };
    const { bundles } = requestFields(input, ['bundles']);
    if (bundles === undefined && input.appRegistry === undefined)
      request.manifestDir = requireString(input, 'manifestDir');
    const { sourceDateEpoch } = imageOptions(input);
    if (sourceDateEpoch !== undefined) request.sourceDateEpoch = sourceDateEpoch;
    const decodeLimits = parseDecodeLimits(input);
    if (decodeLimits) request.decodeLimits = decodeLimits;
    const indexFormat = parseIndexFormat(input);
    if (indexFormat) request.indexFormat = indexFormat;
    const { insecure, maxPerRegistry, registryAuthSecret } = imageOptions(input);
    const pull: BundlePull | undefined = bundles
      ? { bundles, insecure, maxPerRegistry, registryAuthSecret }
      : undefined;
    return { ...request, ...(pull ? { pull } : {}) };
  },
  // Without packages or a directory the stage reads the fetch records itself.
  // The function's memory size bounds the build: one that would not fit fails at once with
  // IndexMemoryLimitError naming the setting to raise, instead of being killed out of memory.
  run: async ({ pull, ...request }: BuildIndexRequest & { pull?: BundlePull }, deps, runtime) => {
    if (!pull) return buildIndex(request, { ...deps, ...memoryLimit() });
    const { bundles, insecure, maxPerRegistry, registryAuthSecret } = pull;
    const position = new Map(bundles.map((ref, i) => [ref, i]));
    const fetched = await fetchBundles(
      {
        buildId: request.buildId,
        bundles,
        ...(insecure ? { insecure } : {}),
        ...(maxPerRegistry ? { maxPerRegistry } : {}),
      },
      {
        ...deps,
        credentials: await credentialsFor(runtime, {
          ...(registryAuthSecret ? { registryAuthSecret } : {}),
        }),
        wrapItem: (ref, run) =>
          runRecorded(deps.store, request.buildId, 'fetch-bundle', run, {
            item: bundleItem(ref, position.get(ref) ?? 0),
          }),
      },
    );
    return buildIndex({ ...request, bundles: fetched }, { ...deps, ...memoryLimit() });
  },
  measure: (result, add) => {
    add('BundlesLoaded', MetricUnit.Count, result.totals.bundles);
    add('PackagesLoaded', MetricUnit.Count, result.totals.packages);
    add('LoadWarnings', MetricUnit.Count, result.warningCount);
    add('IndexDbBytes', MetricUnit.Bytes, result.dbSize);
  },
});
