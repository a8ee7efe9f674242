// Lambda behind the HTTP API (payload 2.0, IAM-authorized): POST /builds validates a build
// request and starts its execution (202 + build id); GET /builds/{id} answers the execution's
// status, the state it is in, and the report once there is one; GET /builds/{id}/report.html
// the report as one self-contained page (lib/stages/report-page.ts).
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
} from '@aws-sdk/client-sfn';
import middy from '@middy/core';
import { describeError } from '../lib/errors.js';
import { InvalidBuildRequestError, validateBuildRequest } from '../lib/stages/build-request.js';
import { renderReportPage } from '../lib/stages/report-page.js';
import { buildKeys } from '../lib/store/keys.js';
import { getJson, StoreNotFoundError } from '../lib/store/store.js';
import { logger } from './commons/powertools.js';
import { functionRuntime, stepFunctions } from './commons/runtime.js';
import { executionArnOf, startBuild } from './commons/start-build.js';

export interface HttpEvent {
  routeKey?: string;
  body?: string | null;
  isBase64Encoded?: boolean;
  pathParameters?: Record<string, string | undefined>;
}
export interface HttpResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

const json = (statusCode: number, body: unknown): HttpResult => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

async function postBuild(event: HttpEvent): Promise<HttpResult> {
  const text = event.isBase64Encoded
    ? Buffer.from(event.body ?? '', 'base64').toString('utf8')
    : (event.body ?? '');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return json(400, {
      error: 'InvalidBuildRequestError',
      message: 'validating build request: body is not JSON',
    });
  }
  const request = validateBuildRequest(body);
  const runtime = functionRuntime();
  if (await runtime.store.head(buildKeys(request.buildId).request))
    return json(409, {
      error: 'BuildExistsError',
      message: `starting build ${request.buildId}: it exists already`,
    });
  const started = await startBuild(runtime, request);
  logger.info('build started', { buildId: started.buildId, executionArn: started.executionArn });
  return json(202, {
    buildId: started.buildId,
    executionArn: started.executionArn,
    status: `/builds/${started.buildId}`,
  });
}

async function getBuild(id: string): Promise<HttpResult> {
  const runtime = functionRuntime();
  let keys: ReturnType<typeof buildKeys>;
  try {
    keys = buildKeys(id);
  } catch {
    return json(404, {
      error: 'BuildNotFoundError',
      message: `reading build ${id}: no such build`,
    });
  }
  const report = await getJson(runtime.store, keys.reportJson).catch((err) => {
    if (err instanceof StoreNotFoundError) return undefined;
    throw err;
  });
  const executionArn = executionArnOf(runtime.stateMachineArn ?? '', id);
  const sfn = await stepFunctions(runtime);
  try {
    const exec = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    const history = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 25 }),
    );
    const entered = history.events?.find((e) => e.stateEnteredEventDetails?.name)
      ?.stateEnteredEventDetails?.name;
    return json(200, {
      buildId: id,
      status: exec.status,
      stage: entered ?? null,
      startedAt: exec.startDate,
      stoppedAt: exec.stopDate ?? null,
      report: report ?? null,
    });
  } catch (err) {
    if (!(err instanceof ExecutionDoesNotExist)) throw err;
    if (report) return json(200, { buildId: id, status: 'UNKNOWN', stage: null, report });
    return json(404, {
      error: 'BuildNotFoundError',
      message: `reading build ${id}: no such build`,
    });
  }
}

async function getReportPage(id: string): Promise<HttpResult> {
  const page = await renderReportPage(functionRuntime().store, id);
  if (page === undefined)
    return json(404, {
      error: 'BuildNotFoundError',
      message: `reading report of build ${id}: no report yet`,
    });
  return {
    statusCode: 200,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
    },
    body: page,
  };
}

export const handler = middy(async (event: HttpEvent): Promise<HttpResult> => {
  try {
    if (event.routeKey === 'POST /builds') return await postBuild(event);
    if (event.routeKey === 'GET /builds/{id}' && event.pathParameters?.id)
      return await getBuild(event.pathParameters.id);
    if (event.routeKey === 'GET /builds/{id}/report.html' && event.pathParameters?.id)
      return await getReportPage(event.pathParameters.id);
    return json(404, {
      error: 'NotFound',
      message: `routing ${event.routeKey ?? 'request'}: no such route`,
    });
  } catch (err) {
    if (err instanceof InvalidBuildRequestError)
      return json(400, { error: err.name, message: err.message });
    logger.error('request failed', { error: describeError(err) });
    return json(500, { error: 'InternalError', message: 'the request failed; see the logs' });
  }
}).use(injectLambdaContext(logger, { resetKeys: true }));
