// One Logger and one Metrics for the whole bundle (created once per cold start, shared by
// every handler module): JSON logs with the Lambda context and the Step Functions execution
// as correlation id, and CloudWatch EMF metrics that cost no API call.
// Every log line passes the one redactor (lib/redact.ts) on its way out: the logger's JSON
// replacer sees every string value — the message, each field, and the name/message/stack of
// an Error once Powertools has formatted it — so a credential a server echoed into an error
// message is removed from what a handler logs, whoever logged it.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { redactText } from '../../lib/redact.js';
import type { Logger as StageLogger } from '../../lib/stages/types.js';

export const SERVICE_NAME = process.env.POWERTOOLS_SERVICE_NAME ?? 'catalog-build';

/** The logger's JSON replacer: strings leave redacted, everything else as it is. */
export function redactingReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'string' ? redactText(value) : value;
}

export const logger = new Logger({ serviceName: SERVICE_NAME, jsonReplacerFn: redactingReplacer });
export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'CatalogBuild',
  serviceName: SERVICE_NAME,
});
export { MetricUnit };

/**
 * A Metrics of its own for one stage invocation, dimension `stage`: the local pipeline runs
 * many invocations at once in one process, where a shared instance would mix them.
 */
export function invocationMetrics(stage: string): Metrics {
  return new Metrics({
    namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'CatalogBuild',
    serviceName: SERVICE_NAME,
    defaultDimensions: { stage },
  });
}

/** The stages' Logger interface over powertools (fields become JSON keys). */
export const stageLogger: StageLogger = {
  debug: (message, fields) => logger.debug(message, fields ?? {}),
  info: (message, fields) => logger.info(message, fields ?? {}),
  warn: (message, fields) => logger.warn(message, fields ?? {}),
  error: (message, fields) => logger.error(message, fields ?? {}),
};
