// The plumbing shared by the six stage handlers, so each handler file is only "check the
// event, call the stage": the Step Functions envelope ({input, execution}), the logger's
// correlation id (the execution ARN), the stage record (lib/stages/stage-results.ts), EMF
// metrics flushed even on failure, and an AbortSignal that fires before the Lambda deadline.
// Errors leave with their `name` unchanged (Step Functions' Retry/Catch match on it) and their
// message and stack redacted.

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { redactText } from '../../lib/redact.js';
import { runRecorded } from '../../lib/stages/stage-results.js';
import type { ImageStageDeps, StageDeps, StageName } from '../../lib/stages/types.js';
import type { LambdaContext } from './lambda-context.js';
import { httpLimits, InvalidEventError } from './parse.js';
import { invocationMetrics, logger, MetricUnit, stageLogger } from './powertools.js';
import { type FunctionRuntime, functionRuntime } from './runtime.js';

/** What every stage Task sends (infra/state-machine.asl.json: Parameters). */
export interface StageEvent {
  input: unknown;
  execution?: string;
}

type MetricUnitValue = (typeof MetricUnit)[keyof typeof MetricUnit];

export interface StageHandlerSpec<I extends { buildId: string }, R> {
  stage: StageName;
  /** Checks the input and returns the stage request (throw InvalidEventError otherwise). */
  parse(input: Record<string, unknown>): I;
  /** Fan-out stages: the item this run handles (its record key). */
  item?(request: I): string;
  run(request: I, deps: StageDeps, runtime: FunctionRuntime): Promise<R>;
  /** What the state machine keeps of the result (default: all of it). */
  output?(result: R): unknown;
  /** Adds the stage's EMF metrics. */
  measure?(result: R, add: (name: string, unit: MetricUnitValue, value: number) => void): void;
}

/** The same error with its message and stack passed through the redactor. */
export function redactError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const message = redactText(err.message);
  if (message !== err.message) err.message = message;
  if (err.stack) err.stack = redactText(err.stack);
  return err;
}

export function stageHandler<I extends { buildId: string }, R>(spec: StageHandlerSpec<I, R>) {
  const handler = async (
    event: StageEvent,
    context: LambdaContext,
    opts?: { signal?: AbortSignal },
  ) => {
    if (
      typeof event !== 'object' ||
      event === null ||
      typeof event.input !== 'object' ||
      event.input === null
    ) {
      throw new InvalidEventError(
        `validating the ${spec.stage} event: expected {input: {...}, execution}`,
      );
    }
    const request = spec.parse(event.input as Record<string, unknown>);
    logger.setCorrelationId(event.execution ?? context.awsRequestId);
    logger.appendKeys({ buildId: request.buildId, stage: spec.stage });
    const runtime = functionRuntime();
    const deps: ImageStageDeps = {
      store: runtime.store,
      log: stageLogger,
      ...httpLimits(event.input as Record<string, unknown>),
      ...(opts?.signal ? { signal: opts.signal } : {}),
      ...(runtime.registryRetries === undefined
        ? {}
        : { registryRetry: { retries: runtime.registryRetries } }),
    };
    const metrics = invocationMetrics(spec.stage);
    const started = Date.now();
    try {
      const item = spec.item ? { item: spec.item(request) } : {};
      const result = await runRecorded(
        runtime.store,
        request.buildId,
        spec.stage,
        () => spec.run(request, deps, runtime),
        item,
      );
      spec.measure?.(result, (name, unit, value) => metrics.addMetric(name, unit, value));
      return spec.output ? spec.output(result) : result;
    } catch (err) {
      metrics.addMetric('StageFailures', MetricUnit.Count, 1);
      // Logged (the logger redacts), then out through Lambda into the execution history, its
      // message and stack being the Cause a Catch hands the report: redacted too, its name
      // kept for Retry/Catch.
      logger.error(`${spec.stage} failed`, err as Error);
      throw redactError(err);
    } finally {
      // Flushed on success and failure alike: EMF lines cost no API call.
      metrics.addMetric('StageDuration', MetricUnit.Milliseconds, Date.now() - started);
      metrics.publishStoredMetrics();
    }
  };
  return middy(handler, { timeoutEarlyInMillis: 2_000 }).use(
    injectLambdaContext(logger, { resetKeys: true }),
  );
}
