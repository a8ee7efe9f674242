// The state machine definition itself: valid ASL, Retry on exactly our temporary error names
// (plus Lambda's service exceptions) and Catch → report on every Task, and its behaviour
// when run locally with stand-in functions: a 1,000-package org stays far below the 256 KB
// payload limit, a temporary error is retried, a permanent one is reported with its stage.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import definition from '../../../infra/state-machine.asl.json' with { type: 'json' };
import { TEMPORARY_ERROR_NAMES } from '../../../lib/errors.js';
import {
  type LocalInvoke,
  resolvedDefinition,
  runLocalExecution,
  taskFunctions,
} from '../../../lib/stages/pipeline-local.js';

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
      'FetchPackage',
      'ListPackages',
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
      ListPackages: 'list-packages',
      FetchPackages: 'fetch-package',
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
  });
});

/** Stand-in functions: synthetic results of the real shapes, failures on demand. */
function fakeFunctions(packageCount: number, failures: Record<string, Error[]> = {}) {
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
      case 'ListPackages':
        return {
          count: packageCount,
          names: Array.from(
            { length: packageCount },
            (_, i) => `operator-package-number-${String(i).padStart(4, '0')}`,
          ),
        };
      case 'FetchPackage':
        return { name: input.name, digest: `sha256:${'a'.repeat(64)}` };
      case 'BuildIndex':
        return {
          buildId: input.buildId,
          dbKey: 'builds/x/bundles.db',
          dbDigest: `sha256:${'b'.repeat(64)}`,
          dbSize: 1,
          counts: {},
          warningsKey: 'builds/x/warnings.json',
          warningCount: 0,
        };
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
  return { calls, invoke };
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
    expect(run.largestPayload.bytes).toBeLessThan(64 * 1024);
    console.info(
      `[payload] 1,000 packages: largest state payload ${run.largestPayload.bytes} B in ${run.largestPayload.state}`,
    );
    // Every Task got the execution ARN for the logs' correlation id.
    expect(f.calls.every((c) => c.event.execution?.endsWith(':execution:catalog-build:big'))).toBe(
      true,
    );
  });

  it('skips assemble and push when the request has no destination', async () => {
    const f = fakeFunctions(2);
    const { to: _to, ...noDestination } = REQUEST;
    const run = await runLocalExecution(noDestination, f.invoke, { executionName: 'db-only' });
    expect(run.status).toBe('SUCCEEDED');
    expect(f.calls.map((c) => c.fn)).toEqual([
      'ListPackages',
      'FetchPackage',
      'FetchPackage',
      'BuildIndex',
      'Report',
    ]);
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
