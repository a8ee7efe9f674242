// Lambda: write the build report (success, or the failure a Catch handed over) and post the
// webhook named in the stored request, its HMAC key read from Secrets Manager by name.
import { report } from '../lib/stages/report.js';
import type { ReportRequest } from '../lib/stages/types.js';
import { requireString } from './commons/parse.js';
import { MetricUnit } from './commons/powertools.js';
import { resolveSecretFor } from './commons/runtime.js';
import { stageHandler } from './commons/stage-handler.js';

/** Lambda failures arrive as a JSON Cause ({errorType, errorMessage}); local ones as text. */
function causeMessage(cause: unknown): string {
  if (typeof cause !== 'string') return cause === undefined ? '' : JSON.stringify(cause);
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed?.errorMessage === 'string') return parsed.errorMessage;
  } catch {}
  return cause;
}

export const handler = stageHandler({
  stage: 'report',
  parse: (input): ReportRequest => {
    const outcome = input.outcome === 'failed' ? 'failed' : 'succeeded';
    const request: ReportRequest = { buildId: requireString(input, 'buildId'), outcome };
    const f = input.failure as { stage?: unknown; error?: unknown; cause?: unknown } | undefined;
    if (outcome === 'failed' && f)
      request.failure = {
        stage: String(f.stage ?? 'unknown'),
        name: String(f.error ?? 'Error'),
        message: causeMessage(f.cause),
      };
    return request;
  },
  run: (request, deps, runtime) =>
    report(request, {
      ...deps,
      resolveSecret: (name) => resolveSecretFor(runtime, name, 'webhook.hmacSecret'),
    }),
  measure: (result, add) =>
    add(result.outcome === 'failed' ? 'BuildsFailed' : 'BuildsSucceeded', MetricUnit.Count, 1),
});
