// Lambda on EventBridge "ECR Image Action" (PUSH, SUCCESS): when the pushed repository and
// tag are the `from` of a configured build (WATCH_TARGETS), start a rebuild on the new base.
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { newBuildId } from '../lib/stages/build-request.js';
import { logger } from './commons/powertools.js';
import { functionRuntime, watchTemplates } from './commons/runtime.js';
import { startBuild } from './commons/start-build.js';

export interface EcrImageActionEvent {
  source?: string;
  'detail-type'?: string;
  account?: string;
  region?: string;
  detail?: {
    'action-type'?: string;
    result?: string;
    'repository-name'?: string;
    'image-tag'?: string;
    'image-digest'?: string;
  };
}

/** Whether `from` (host/repo[:tag]) names the pushed ECR repository and tag. */
export function isBaseOf(from: string, event: EcrImageActionEvent): boolean {
  const d = event.detail ?? {};
  const host = `${event.account}.dkr.ecr.${event.region}.amazonaws.com/`;
  if (!from.startsWith(host)) return false;
  const rest = from.slice(host.length).split('@')[0]!;
  const colon = rest.lastIndexOf(':');
  const repo = colon > 0 ? rest.slice(0, colon) : rest;
  const tag = colon > 0 ? rest.slice(colon + 1) : 'latest';
  return repo === d['repository-name'] && tag === d['image-tag'];
}

export const handler = middy(async (event: EcrImageActionEvent) => {
  const d = event.detail ?? {};
  if (
    event['detail-type'] !== 'ECR Image Action' ||
    d['action-type'] !== 'PUSH' ||
    d.result !== 'SUCCESS'
  )
    return { started: [] };
  const runtime = functionRuntime();
  const started: string[] = [];
  for (const template of watchTemplates(runtime)) {
    if (!template.from || !isBaseOf(template.from, event)) continue;
    const build = await startBuild(runtime, { ...template, buildId: newBuildId() });
    logger.info('base image pushed: rebuild started', {
      from: template.from,
      baseDigest: d['image-digest'],
      buildId: build.buildId,
    });
    started.push(build.buildId);
  }
  return { started };
}).use(injectLambdaContext(logger, { resetKeys: true }));
