// Lambda, the state machine's first state: the whole request checked again by the one
// schema (an execution can be started without the API), the secrets it names read — each
// error naming its field, the webhook key included, so a build never runs to its report to
// find it missing — then the preflight stage the CLI runs too: destination, credentials,
// push scope, base image. A request that cannot succeed fails here in seconds, with a
// report, before any listing or download.
import { validateBuildRequest } from '../lib/stages/build-request.js';
import { preflight } from '../lib/stages/preflight.js';
import { credentialsFor, resolveSecretFor } from './commons/runtime.js';
import { stageHandler } from './commons/stage-handler.js';

export const handler = stageHandler({
  stage: 'preflight',
  // The execution input: a bundle list stands there as its count (executionInput).
  parse: (input) => validateBuildRequest(input, { executionInput: true }),
  run: async (request, deps, runtime) => {
    const credentials = await credentialsFor(runtime, request);
    if (request.webhook?.hmacSecret)
      await resolveSecretFor(runtime, request.webhook.hmacSecret, 'webhook.hmacSecret');
    const { buildId, to, from, filterByOs, insecure, maxPerRegistry } = request;
    return preflight(
      { buildId, to, from, filterByOs, insecure, maxPerRegistry },
      { ...deps, credentials },
    );
  },
});
