// The state machine definition itself: valid ASL, Retry on exactly our temporary error names
// (plus Lambda's service exceptions) and Catch → report on every Task, and its behaviour
// when run locally with stand-in functions: a 1,000-package org stays far below the 256 KB
// payload limit, a temporary error is retried, a permanent one is reported with its stage.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { INLINE_MAP_MAX_PACKAGES, listingOutput } from '../../../functions/list-packages.js';
import definition from '../../../infra/state-machine.asl.json' with { type: 'json' };
import { TEMPORARY_ERROR_NAMES } from '../../../lib/errors.js';
import { executionInput } from '../../../lib/stages/build-request.js';
import {
  LOCAL_BUCKET,
  type LocalInvoke,
  type LocalRunOptions,
  resolvedDefinition,
  runLocalExecution,
  STEP_FUNCTIONS_LIMITS,
  taskFunctions,
} from '../../../lib/stages/pipeline-local.js';
import type { BuildIndexResult } from '../../../lib/stages/types.js';
import { buildKeys } from '../../../lib/store/keys.js';

const validate = createRequire(import.meta.url)('asl-validator') as (
  d: unknown,
  o?: unknown,
) => { isValid: boolean; errorsText: (sep?: string) => string };
const LAMBDA_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
];

type State = Record<string, unknown> & {
  Type: string;
  Retry?: Array<{ ErrorEquals: string[] }>;
  Catch?: Array<{ ErrorEquals: string[]; Next: string }>;
};
function allStates(): Array<[string, State]> {
  const out: Array<[string, State]> = [];
  const visit = (states: Record<string, State>) => {
    for (const [name, s] of Object.entries(states)) {
      out.push([name, s]);
      const inner = s.ItemProcessor as { States: Record<string, State> } | undefined;
      if (inner) visit(inner.States);
    }
  };
  visit(definition.States as unknown as Record<string, State>);
  return out;
}

describe('state machine definition', () => {
  it('is valid ASL once the CloudFormation intrinsics are resolved', () => {
    const result = validate(resolvedDefinition(), { checkPaths: true, checkArn: true });
    expect(result.errorsText('\n')).toBe('');
    expect(result.isValid).toBe(true);
  });

  it('retries exactly the temporary error names and Lambda service exceptions on every Task', () => {
    const tasks = allStates().filter(([, s]) => s.Type === 'Task');
    expect(tasks.map(([n]) => n).sort()).toEqual([
      'AssembleImage',
      'BuildIndex',
      'FetchBundle',
      'FetchListedBundle',
      'FetchListedPackage',
      'FetchPackage',
      'ListBundles',
      'ListPackages',
      'Preflight',
      'PushImage',
      'Report',
      'ReportFailure',
    ]);
    for (const [, s] of tasks) {
      const names = s.Retry!.flatMap((r) => r.ErrorEquals);
      expect(new Set(names)).toEqual(new Set([...TEMPORARY_ERROR_NAMES, ...LAMBDA_ERRORS]));
    }
  });

  it('catches every failure of a stage into a report naming that stage', () => {
    const stages: Record<string, string> = {
      Preflight: 'preflight',
      ListPackages: 'list-packages',
      FetchPackages: 'fetch-package',
      FetchPackagesDistributed: 'fetch-package',
      ListBundles: 'list-bundles',
      FetchBundles: 'fetch-bundle',
      FetchBundlesDistributed: 'fetch-bundle',
      BuildIndex: 'build-index',
      AssembleImage: 'assemble-image',
      PushImage: 'push-image',
    };
    const states = definition.States as unknown as Record<string, State>;
    for (const [state, stage] of Object.entries(stages)) {
      const c = states[state]!.Catch!;
      expect(c).toEqual([{ ErrorEquals: ['States.ALL'], Next: expect.any(String) }]);
      const pass = states[c[0]!.Next]!;
      expect((pass.Parameters as { failure: { stage: string } }).failure.stage).toBe(stage);
      expect(pass.Next).toBe('ReportFailure');
    }
    expect((states.FetchPackages as { MaxConcurrency?: number }).MaxConcurrency).toBeGreaterThan(0);
    expect(taskFunctions().get('FetchPackage')).toBe('FetchPackage');
    expect(taskFunctions().get('FetchListedPackage')).toBe('FetchPackage');
    expect(taskFunctions().get('FetchBundle')).toBe('FetchBundle');
    expect(taskFunctions().get('FetchListedBundle')).toBe('FetchBundle');
  });

  it('fans out over bundles as over packages: inline Map, Distributed Map beyond 1,000', () => {
    const states = definition.States as unknown as Record<string, Record<string, unknown>>;
    const choices = (states.Source as { Choices: Array<{ Next: string }> }).Choices;
    expect(choices.map((c) => c.Next)).toContain('ListBundles');
    expect(states.ListBundles).toMatchObject({ ResultPath: '$.listing', Next: 'BundleFanOut' });
    expect(states.BundleFanOut).toMatchObject({
      Type: 'Choice',
      Choices: [{ Variable: '$.listing.names', IsPresent: true, Next: 'FetchBundles' }],
      Default: 'FetchBundlesDistributed',
    });
    const inline = states.FetchBundles!;
    const distributed = states.FetchBundlesDistributed!;
    expect(inline).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.listing.names',
      ItemProcessor: { ProcessorConfig: { Mode: 'INLINE' } },
      ResultPath: null,
      Next: 'BuildIndex',
    });
    // The item reader is the package fan-out's: the same bucket object key in $.listing.
    expect(distributed.ItemReader).toEqual(states.FetchPackagesDistributed!.ItemReader);
    expect(distributed).toMatchObject({
      Type: 'Map',
      ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } },
      ResultPath: null,
      Next: 'BuildIndex',
    });
    // An iteration gets the build and the bundle's position only, whichever Map runs it.
    expect(inline.ItemSelector).toEqual({
      'buildId.$': '$.buildId',
      'index.$': '$$.Map.Item.Index',
    });
    expect(distributed.ItemSelector).toEqual(inline.ItemSelector);
    const inner = (distributed.ItemProcessor as { States: Record<string, unknown> }).States;
    const inlineInner = (inline.ItemProcessor as { States: Record<string, unknown> }).States;
    expect(inner.FetchListedBundle).toEqual(inlineInner.FetchBundle);
    for (const m of [distributed, inline])
      expect(m.MaxConcurrency).toBeLessThanOrEqual(STEP_FUNCTIONS_LIMITS.inlineMapConcurrency);
  });

  it('fans out big orgs in a Distributed Map reading the names from the bucket', () => {
    const states = definition.States as unknown as Record<string, Record<string, unknown>>;
    expect(states.ListPackages!.Next).toBe('FanOut');
    expect(states.FanOut).toMatchObject({
      Type: 'Choice',
      Choices: [{ Variable: '$.listing.names', IsPresent: true, Next: 'FetchPackages' }],
      Default: 'FetchPackagesDistributed',
    });
    const distributed = states.FetchPackagesDistributed!;
    expect(distributed).toMatchObject({
      Type: 'Map',
      ItemReader: {
        Resource: 'arn:aws:states:::s3:getObject',
        ReaderConfig: { InputType: 'JSON' },
        Parameters: { Bucket: { Ref: 'CatalogBucket' }, 'Key.$': '$.listing.itemsKey' },
      },
      ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } },
      ResultPath: null,
      Next: 'BuildIndex',
    });
    // The same fetch, the same item, as the inline Map: only where the names come from differs.
    expect(distributed.ItemSelector).toEqual(states.FetchPackages!.ItemSelector);
    const inner = (distributed.ItemProcessor as { States: Record<string, unknown> }).States;
    const inlineInner = (states.FetchPackages!.ItemProcessor as { States: Record<string, unknown> })
      .States;
    expect(inner.FetchListedPackage).toEqual(inlineInner.FetchPackage);
    // Both Maps stay within the inline Map's concurrency, which the App Registry sees.
    for (const m of [distributed, states.FetchPackages!])
      expect(m.MaxConcurrency).toBeLessThanOrEqual(STEP_FUNCTIONS_LIMITS.inlineMapConcurrency);
  });

  it('list-packages hands over the names inline up to the inline Map limit only', () => {
    const names = (n: number) => Array.from({ length: n }, (_, i) => `p${i}`);
    expect(listingOutput(names(INLINE_MAP_MAX_PACKAGES), 'k').names).toHaveLength(
      INLINE_MAP_MAX_PACKAGES,
    );
    expect(listingOutput(names(INLINE_MAP_MAX_PACKAGES + 1), 'k')).toEqual({
      count: INLINE_MAP_MAX_PACKAGES + 1,
      itemsKey: 'k',
    });
  });
});

/** Stand-in functions: synthetic results of the real shapes, failures on demand. */
function fakeFunctions(packageCount: number, failures: Record<string, Error[]> = {}) {
  // Names as long as real ones get (the longest in the dev corpus has 40 characters).
  const listed = Array.from(
    { length: packageCount },
    (_, i) => `operator-package-with-a-long-name-${String(i).padStart(5, '0')}`,
  );
  // Bundle references as long as real ones get (quay.io/<org>/<name>-bundle@sha256:…).
  const refs = Array.from(
    { length: packageCount },
    (_, i) =>
      `quay.io/community-operator-pipeline-prod/operator-${String(i).padStart(5, '0')}-bundle@sha256:${'e'.repeat(64)}`,
  );
  // The bucket the ItemReader reads: what the listing handlers wrote there.
  const bucket = new Map<string, unknown>([
    [`${LOCAL_BUCKET}/${ITEMS_KEY}`, listed],
    [`${LOCAL_BUCKET}/${BUNDLE_ITEMS_KEY}`, refs],
  ]);
  const readItems: LocalRunOptions['readItems'] = async (b, key) => bucket.get(`${b}/${key}`);
  const calls: Array<{
    fn: string;
    event: { input: Record<string, unknown>; execution?: string };
  }> = [];
  const invoke: LocalInvoke = async (fn, raw) => {
    const event = raw as { input: Record<string, unknown>; execution?: string };
    calls.push({ fn, event });
    const planned = failures[fn]?.shift();
    if (planned) throw planned;
    const input = event.input;
    switch (fn) {
      case 'Preflight':
        return null;
      case 'ListPackages':
        return listingOutput(listed, ITEMS_KEY);
      case 'FetchPackage':
        return { name: input.name, digest: `sha256:${'a'.repeat(64)}` };
      case 'ListBundles':
        return listingOutput(
          refs.map((_, i) => i),
          BUNDLE_ITEMS_KEY,
        );
      case 'FetchBundle':
        return { index: input.index, pulled: true };
      case 'BuildIndex':
        return buildIndexResult(String(input.buildId), packageCount, input.indexFormat === 'fbc');
      case 'AssembleImage':
        return {
          buildId: input.buildId,
          imageKey: 'builds/x/image.json',
          digest: `sha256:${'c'.repeat(64)}`,
          mediaType: 'm',
          platforms: [],
        };
      case 'PushImage':
        return {
          buildId: input.buildId,
          ref: input.to,
          digest: `sha256:${'c'.repeat(64)}`,
          blobs: {},
        };
      case 'Report':
        return {
          buildId: input.buildId,
          outcome: input.outcome,
          reportKey: 'r',
          reportMdKey: 'm',
          failure: input.failure ?? null,
        };
      default:
        throw new Error(`no function ${fn}`);
    }
  };
  return { calls, invoke, readItems };
}
const ITEMS_KEY = 'builds/b1/package-names.json';
const BUNDLE_ITEMS_KEY = 'builds/b1/bundle-refs.json';

/**
 * The build-index result in the shape the stage returns: for `fbc` a file per package plus
 * its serve cache, all behind `filesKey` (test/unit/stages/build-index-bounded.test.ts shows
 * the real stage's result does not grow with the catalog).
 */
function buildIndexResult(buildId: string, packages: number, fbc: boolean): BuildIndexResult {
  const keys = buildKeys(buildId);
  const files = fbc ? 8 * packages : 1;
  return {
    buildId,
    indexFormat: fbc ? 'fbc' : 'sqlite-v7',
    dbKey: fbc ? '' : keys.db,
    dbDigest: fbc ? '' : `sha256:${'b'.repeat(64)}`,
    dbSize: fbc ? 0 : 1,
    filesKey: keys.catalogFiles,
    fileCount: files,
    fileBytes: 2048 * files,
    counts: fbc
      ? { 'olm.package': packages, 'olm.channel': 2 * packages, 'olm.bundle': 5 * packages }
      : {},
    totals: { packages, channels: 2 * packages, bundles: 5 * packages },
    warningsKey: keys.warnings,
    warningCount: 0,
  };
}

const named = (name: string, message: string) => Object.assign(new Error(message), { name });
const REQUEST = {
  buildId: 'b1',
  appRegistry: { endpoint: 'https://quay.example/cnr', org: 'big-org' },
  from: 'scratch',
  to: 'registry.example/cat:v1',
};

describe('state machine run locally', () => {
  it('keeps a 1,000-package org far below the 256 KB payload limit', async () => {
    const f = fakeFunctions(1000);
    const run = await runLocalExecution(REQUEST, f.invoke, { executionName: 'big' });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.invocations.FetchPackage).toBe(1000);
    expect(run.mapRuns).toEqual({});
    expect(run.largestPayload.bytes).toBeLessThan(64 * 1024);
    // The inline Map's iterations are in the build's own history: ~7 events per package,
    // which leaves room for retries under the 25,000-event limit.
    expect(run.historyEvents).toBeLessThan(STEP_FUNCTIONS_LIMITS.historyEvents / 3);
    console.info(
      `[limits] 1,000 packages (inline Map): largest state payload ${run.largestPayload.bytes} B in ${run.largestPayload.state}, ${run.historyEvents} history events`,
    );
    // Every Task got the execution ARN for the logs' correlation id.
    expect(f.calls.every((c) => c.event.execution?.endsWith(':execution:catalog-build:big'))).toBe(
      true,
    );
  });

  it('keeps a 5,000-package org under every limit with the Distributed Map', async () => {
    const f = fakeFunctions(5000);
    const run = await runLocalExecution(REQUEST, f.invoke, {
      executionName: 'huge',
      readItems: f.readItems,
    });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.invocations.FetchListedPackage).toBe(5000);
    expect(run.invocations.FetchPackage).toBe(0);
    const mapRun = run.mapRuns.FetchPackagesDistributed!;
    expect(mapRun).toMatchObject({ items: 5000, childExecutions: 5000 });
    expect(mapRun.maxConcurrent).toBeLessThanOrEqual(8);
    // The build's own history does not grow with the org; each child's is a few events.
    expect(run.historyEvents).toBeLessThan(100);
    expect(mapRun.largestChild.historyEvents).toBeLessThan(50);
    // No state holds the names: the largest payload is the same as for a 2-package org.
    expect(run.largestPayload.bytes).toBeLessThan(4 * 1024);
    expect(run.largestPayload.bytes).toBeLessThan(STEP_FUNCTIONS_LIMITS.payloadBytes);
    const fetched = f.calls.filter((c) => c.fn === 'FetchPackage').map((c) => c.event.input.name);
    expect(new Set(fetched).size).toBe(5000);
    const buildIndex = f.calls.find((c) => c.fn === 'BuildIndex')!;
    expect(buildIndex.event.input.listing).toEqual({ count: 5000, itemsKey: ITEMS_KEY });
    // The index result travels on (AssembleImage, PushImage, Report) as references only.
    const assemble = f.calls.find((c) => c.fn === 'AssembleImage')!;
    expect(assemble.event.input.index).toMatchObject({
      fileCount: 1,
      filesKey: expect.any(String),
    });
    console.info(
      `[limits] 5,000 packages (Distributed Map): largest state payload ${run.largestPayload.bytes} B in ${run.largestPayload.state}, ${run.historyEvents} history events in the build, at most ${mapRun.largestChild.historyEvents} per child execution, ${mapRun.maxConcurrent} children at once`,
    );
  }, 120_000);

  it('keeps a 5,000-package fbc build under the payload limit: the file list stays in the store', async () => {
    const f = fakeFunctions(5000);
    const run = await runLocalExecution({ ...REQUEST, indexFormat: 'fbc' }, f.invoke, {
      executionName: 'huge-fbc',
      readItems: f.readItems,
    });
    expect(run.status).toBe('SUCCEEDED');
    // AssembleImage and PushImage get the whole state; Report only the build id.
    for (const fn of ['AssembleImage', 'PushImage']) {
      const call = f.calls.find((c) => c.fn === fn)!;
      expect(call.event.input.index).toMatchObject({ indexFormat: 'fbc', fileCount: 40_000 });
      expect(call.event.input.index).not.toHaveProperty('files');
    }
    expect(run.largestPayload.bytes).toBeLessThan(4 * 1024);
    console.info(
      `[limits] 5,000 packages, fbc: largest state payload ${run.largestPayload.bytes} B in ${run.largestPayload.state}`,
    );
  }, 120_000);

  it('reports a failed child of the Distributed Map as a fetch-package failure', async () => {
    const f = fakeFunctions(INLINE_MAP_MAX_PACKAGES + 1, {
      FetchPackage: [named('AppRegistryAuthError', 'pulling blob: 401 Unauthorized')],
    });
    const run = await runLocalExecution(REQUEST, f.invoke, {
      executionName: 'huge-fail',
      readItems: f.readItems,
    });
    expect(run.status).toBe('FAILED');
    const report = f.calls.find((c) => c.fn === 'Report')!;
    expect(report.event.input).toMatchObject({
      outcome: 'failed',
      failure: { stage: 'fetch-package', error: 'States.ExceedToleratedFailureThreshold' },
    });
    expect(String((report.event.input.failure as { cause: unknown }).cause)).toContain(
      'AppRegistryAuthError: pulling blob: 401 Unauthorized',
    );
    expect(f.calls.some((c) => c.fn === 'BuildIndex')).toBe(false);
  }, 60_000);

  /** A bundle build as the API starts it: the references stay in the stored request. */
  const bundleRequest = (n: number) => {
    const { appRegistry: _a, ...rest } = REQUEST;
    return executionInput({
      ...rest,
      bundles: Array.from({ length: n }, (_, i) => `quay.io/ns/op-${i}-bundle:v${i}`),
    });
  };

  it('starts a 50,000-bundle build with an input of a few hundred bytes', () => {
    const input = bundleRequest(50_000);
    expect(input).not.toHaveProperty('bundles');
    expect(input).toMatchObject({ bundleCount: 50_000 });
    expect(JSON.stringify(input).length).toBeLessThan(512);
  });

  it('fans out 1,000 bundles in the inline Map, one iteration per bundle index', async () => {
    const f = fakeFunctions(1000);
    const run = await runLocalExecution(bundleRequest(1000), f.invoke, {
      executionName: 'bundles',
    });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.invocations.FetchBundle).toBe(1000);
    expect(run.mapRuns).toEqual({});
    const indexes = f.calls.filter((c) => c.fn === 'FetchBundle').map((c) => c.event.input);
    expect(new Set(indexes.map((i) => i.index))).toEqual(
      new Set(Array.from({ length: 1000 }, (_, i) => i)),
    );
    expect(indexes[0]).toEqual({ buildId: 'b1', index: expect.any(Number) });
    expect(f.calls.some((c) => c.fn === 'ListPackages' || c.fn === 'FetchPackage')).toBe(false);
    expect(run.largestPayload.bytes).toBeLessThan(16 * 1024);
    expect(run.historyEvents).toBeLessThan(STEP_FUNCTIONS_LIMITS.historyEvents / 3);
    console.info(
      `[limits] 1,000 bundles (inline Map): largest state payload ${run.largestPayload.bytes} B in ${run.largestPayload.state}, ${run.historyEvents} history events`,
    );
  }, 120_000);

  it('fans out 5,000 bundles in the Distributed Map under every limit', async () => {
    const f = fakeFunctions(5000);
    const run = await runLocalExecution(bundleRequest(5000), f.invoke, {
      executionName: 'bundles-huge',
      readItems: f.readItems,
    });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.invocations.FetchListedBundle).toBe(5000);
    expect(run.invocations.FetchBundle).toBe(0);
    const mapRun = run.mapRuns.FetchBundlesDistributed!;
    expect(mapRun).toMatchObject({ items: 5000, childExecutions: 5000 });
    expect(mapRun.maxConcurrent).toBeLessThanOrEqual(16);
    expect(run.historyEvents).toBeLessThan(100);
    expect(mapRun.largestChild.historyEvents).toBeLessThan(50);
    expect(run.largestPayload.bytes).toBeLessThan(4 * 1024);
    const indexes = f.calls.filter((c) => c.fn === 'FetchBundle').map((c) => c.event.input.index);
    expect(new Set(indexes).size).toBe(5000);
    expect(Math.max(...(indexes as number[]))).toBe(4999);
    console.info(
      `[limits] 5,000 bundles (Distributed Map): largest state payload ${run.largestPayload.bytes} B in ${run.largestPayload.state}, ${run.historyEvents} history events in the build, at most ${mapRun.largestChild.historyEvents} per child execution, ${mapRun.maxConcurrent} children at once`,
    );
  }, 120_000);

  it('fails the build as fetch-bundle when a registry stays unavailable through the retries', async () => {
    const unavailable = () => named('RegistryUnavailableError', 'pulling manifest: 503');
    // One bundle, failing its first attempt and each of the 4 retries.
    const f = fakeFunctions(1, { FetchBundle: Array.from({ length: 5 }, unavailable) });
    const run = await runLocalExecution(bundleRequest(1), f.invoke, {
      executionName: 'bundles-down',
    });
    expect(run.invocations.FetchBundle).toBe(5);
    expect(run.status).toBe('FAILED');
    const report = f.calls.find((c) => c.fn === 'Report')!;
    expect(report.event.input).toMatchObject({
      outcome: 'failed',
      failure: { stage: 'fetch-bundle', error: 'RegistryUnavailableError' },
    });
    expect(f.calls.some((c) => c.fn === 'BuildIndex')).toBe(false);
  }, 60_000);

  it('skips assemble and push when the request has no destination', async () => {
    const f = fakeFunctions(2);
    const { to: _to, ...noDestination } = REQUEST;
    const run = await runLocalExecution(noDestination, f.invoke, { executionName: 'db-only' });
    expect(run.status).toBe('SUCCEEDED');
    expect(f.calls.map((c) => c.fn)).toEqual([
      'Preflight',
      'ListPackages',
      'FetchPackage',
      'FetchPackage',
      'BuildIndex',
      'Report',
    ]);
  });

  it('runs Preflight first, on the request as given, and keeps nothing of its result', async () => {
    const f = fakeFunctions(2);
    const run = await runLocalExecution(REQUEST, f.invoke, { executionName: 'preflight-first' });
    expect(run.status).toBe('SUCCEEDED');
    expect(f.calls[0]).toMatchObject({ fn: 'Preflight', event: { input: REQUEST } });
    const list = f.calls.find((c) => c.fn === 'ListPackages')!;
    expect(list.event.input).toEqual(REQUEST);
  });

  it('a permanent Preflight failure is reported at once: nothing is listed or fetched', async () => {
    const f = fakeFunctions(3, {
      Preflight: [
        named('RegistryNotFoundError', 'getting manifest base:nope: 404 MANIFEST_UNKNOWN'),
      ],
    });
    const run = await runLocalExecution(REQUEST, f.invoke, { executionName: 'preflight-fail' });
    expect(run.status).toBe('FAILED');
    expect(f.calls.map((c) => c.fn)).toEqual(['Preflight', 'Report']);
    expect(f.calls[1]!.event.input).toMatchObject({
      outcome: 'failed',
      failure: { stage: 'preflight', error: 'RegistryNotFoundError' },
    });
  });

  it('a temporary Preflight failure is retried like any stage', async () => {
    const f = fakeFunctions(2, {
      Preflight: [named('RegistryUnavailableError', 'pinging 127.0.0.1:1: connection refused')],
    });
    const run = await runLocalExecution(REQUEST, f.invoke, { executionName: 'preflight-retry' });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.invocations.Preflight).toBe(2);
  });

  it('retries a temporary error and goes on', async () => {
    const f = fakeFunctions(3, { PushImage: [named('RegistryUnavailableError', 'pushing: 503')] });
    const run = await runLocalExecution(REQUEST, f.invoke, { executionName: 'retry' });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.invocations.PushImage).toBe(2);
    expect(run.retries).toBe(1);
  });

  it('reports a permanent error with its stage and name, then fails the execution', async () => {
    const f = fakeFunctions(3, {
      FetchPackage: [named('AppRegistryAuthError', 'pulling blob: 401 Unauthorized')],
    });
    const run = await runLocalExecution(REQUEST, f.invoke, { executionName: 'fail' });
    expect(run.status).toBe('FAILED');
    expect(run.error?.name).toBe('BuildFailed');
    const report = f.calls.find((c) => c.fn === 'Report')!;
    expect(report.event.input).toMatchObject({
      buildId: 'b1',
      outcome: 'failed',
      failure: { stage: 'fetch-package', error: 'AppRegistryAuthError' },
    });
    expect(String((report.event.input.failure as { cause: unknown }).cause)).toContain(
      '401 Unauthorized',
    );
    expect(f.calls.some((c) => c.fn === 'BuildIndex' || c.fn === 'PushImage')).toBe(false);
  });
});
