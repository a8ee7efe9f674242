// The request's HTTP limits reach the Lambda stages: the state machine hands each Task the
// whole execution state, so a build request's `timeouts` is in every stage event and the
// stage's clients use it. A silent App Registry with timeouts.headersMs 200 ends the
// list-packages handler with AppRegistryTimeoutError naming 200 ms; an invalid value in the
// event is refused by the one request schema.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setFunctionRuntime } from '../../../functions/commons/runtime.js';
import { handler as listPackagesHandler } from '../../../functions/list-packages.js';
import { LocalDirStore } from '../../../lib/store/local-dir-store.js';
import { type HostileServer, startHostileServer } from '../../support/hostile-server.js';
import { fakeLambdaContext } from '../../support/lambda-context.js';

let dir: string;
let silent: HostileServer;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'http-limits-'));
  silent = await startHostileServer(() => new Promise<void>(() => undefined));
  setFunctionRuntime({
    store: new LocalDirStore(dir),
    resolveSecret: async (name) => `value-of-${name}`,
  });
});
afterAll(async () => {
  setFunctionRuntime(undefined);
  await silent?.stop();
  await rm(dir, { recursive: true, force: true });
});

const event = (extra: Record<string, unknown>) => ({
  input: {
    buildId: 'limits-1',
    appRegistry: { endpoint: silent.url, org: 'demo' },
    ...extra,
  },
  execution: 'arn:aws:states:us-east-1:123456789012:execution:sm:limits-1',
});

describe('stage handlers apply the request timeouts', () => {
  it('list-packages against a silent App Registry: AppRegistryTimeoutError at 200 ms', async () => {
    const err = await listPackagesHandler(
      event({ timeouts: { headersMs: 200 } }),
      fakeLambdaContext('list-packages'),
    ).catch((e: unknown) => e as Error);
    expect((err as Error).name).toBe('AppRegistryTimeoutError');
    expect((err as Error).message).toContain(
      "within the headers timeout (200 ms; raise it with --headers-timeout or the build request's timeouts.headersMs)",
    );
  }, 60_000);

  it('an invalid timeout in the event is refused by the request schema', async () => {
    const err = await listPackagesHandler(
      event({ timeouts: { headersMs: 0 } }),
      fakeLambdaContext('list-packages'),
    ).catch((e: unknown) => e as Error);
    expect((err as Error).name).toBe('InvalidEventError');
    expect((err as Error).message).toContain('timeouts.headersMs must be a number of ms from 1');
  });
});
