// Lambda on a schedule: for each configured org (WATCH_TARGETS: build request templates),
// list its packages with the list-packages stage, compare releases and digests with the
// snapshot the last successful build wrote, and start a build only when something changed,
// saying what. The build id is derived from the new package set, so a repeated tick while
// that build runs starts nothing new.
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { listPackages } from '../lib/stages/list-packages.js';
import {
  diffSnapshots,
  readSnapshot,
  snapshotFingerprint,
  snapshotOf,
} from '../lib/stages/upstream-snapshot.js';
import { logger, MetricUnit, metrics, stageLogger } from './commons/powertools.js';
import { credentialsFor, functionRuntime, watchTemplates } from './commons/runtime.js';
import { startBuild } from './commons/start-build.js';

export interface WatchOutcome {
  org: string;
  changes: string[];
  buildId?: string;
  alreadyStarted?: boolean;
}

export const handler = middy(async (): Promise<{ targets: WatchOutcome[] }> => {
  const runtime = functionRuntime();
  const out: WatchOutcome[] = [];
  for (const template of watchTemplates(runtime)) {
    const source = template.appRegistry;
    if (!source) continue;
    const listed = await listPackages(
      { buildId: 'watch', appRegistry: source },
      {
        store: runtime.store,
        log: stageLogger,
        credentials: await credentialsFor(runtime, { appRegistry: source }),
      },
    );
    const now = snapshotOf(source, listed.packages);
    const changes = diffSnapshots(await readSnapshot(runtime.store, source), now);
    if (changes.length === 0) {
      logger.info('upstream unchanged', { org: source.org });
      out.push({ org: source.org, changes });
      continue;
    }
    const buildId = `watch-${source.org}-${snapshotFingerprint(now)}`.slice(0, 128);
    const started = await startBuild(runtime, { ...template, buildId });
    logger.info('upstream changed: build started', {
      org: source.org,
      changes,
      buildId,
      alreadyStarted: started.alreadyStarted,
    });
    metrics.addMetric('BuildsStarted', MetricUnit.Count, started.alreadyStarted ? 0 : 1);
    out.push({ org: source.org, changes, buildId, alreadyStarted: started.alreadyStarted });
  }
  metrics.addMetric('OrgsChecked', MetricUnit.Count, out.length);
  return { targets: out };
})
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
