// `catalog-build pipeline --request build.json [--s3-endpoint URL --bucket NAME | --store DIR]`:
// runs one build request through the real state machine definition and the real Lambda
// handlers, in-process (lib/stages/pipeline-local.ts), against an S3 bucket (path-style
// when an endpoint is given) or a local directory store. Prints the execution's outcome as
// JSON on stdout; handler logs are silenced unless --verbose (then they go to stderr).
// Secrets named in the request are read from the environment: the secret "a/b-c" comes from
// CATALOG_BUILD_SECRET_A_B_C.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from '../../lib/errors.js';
import {
  executionInput,
  saveBuildRequest,
  validateBuildRequest,
} from '../../lib/stages/build-request.js';
import { runLocalExecution } from '../../lib/stages/pipeline-local.js';
import { buildKeys } from '../../lib/store/keys.js';
import { LocalDirStore } from '../../lib/store/local-dir-store.js';
import { S3Store } from '../../lib/store/s3-store.js';
import { getJson, type Store } from '../../lib/store/store.js';

export const PIPELINE_USAGE = `Usage: catalog-build pipeline --request FILE [--s3-endpoint URL] [--bucket NAME | --store DIR] [--verbose]

Runs the build request (the JSON that POST /builds accepts, see examples/build-request.json)
through the Step Functions definition and the Lambda handlers on this machine.
  --request FILE      the build request (a buildId is assigned when it has none)
  --bucket NAME       use this S3 bucket as the store (with --s3-endpoint: path-style)
  --s3-endpoint URL   an S3-compatible endpoint (s3rver, MinIO)
  --store DIR         use a local directory as the store (default: out/store)
  --verbose           handler logs (JSON) on stderr
Secrets named in the request are read from CATALOG_BUILD_SECRET_<NAME> (upper case, other
characters as "_").`;

export function secretEnvName(name: string): string {
  return `CATALOG_BUILD_SECRET_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

export interface PipelineOutcome {
  buildId: string;
  executionArn: string;
  status: 'SUCCEEDED' | 'FAILED';
  store: string;
  reportKey: string;
  output?: unknown;
  error?: { name: string; cause: string };
}

/** Runs one request; the building block of the command and of the end-to-end tests. */
export async function runPipeline(
  requestBody: unknown,
  store: Store,
  options: { env?: NodeJS.ProcessEnv; verbose?: boolean } = {},
): Promise<PipelineOutcome> {
  const env = options.env ?? process.env;
  // Before the handlers (and their powertools singletons) load: no EMF on stdout, logs only when asked.
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  process.env.POWERTOOLS_LOG_LEVEL ??= options.verbose ? 'INFO' : 'SILENT';
  const request = validateBuildRequest(requestBody);
  const { setFunctionRuntime, SecretNotFoundError, registryRetriesFromEnv } = await import(
    '../commons/runtime.js'
  );
  const registryRetries = registryRetriesFromEnv(env);
  const { invokeLocalFunction } = await import('../commons/local-handlers.js');
  setFunctionRuntime({
    store,
    ...(registryRetries === undefined ? {} : { registryRetries }),
    async resolveSecret(name) {
      const value = env[secretEnvName(name)];
      if (value === undefined)
        throw new SecretNotFoundError(`reading secret ${name}: ${secretEnvName(name)} is not set`);
      return value;
    },
  });
  await saveBuildRequest(store, request);
  const run = await runLocalExecution(executionInput(request), invokeLocalFunction, {
    executionName: request.buildId,
    // The Distributed Map's ItemReader: the bucket is this run's store, whatever its name.
    readItems: (_bucket, key) => getJson(store, key),
  });
  const outcome: PipelineOutcome = {
    buildId: request.buildId,
    executionArn: run.executionArn,
    status: run.status,
    store: store.location,
    reportKey: buildKeys(request.buildId).reportJson,
  };
  if (run.output !== undefined) outcome.output = run.output;
  if (run.error) outcome.error = run.error;
  return outcome;
}

export async function pipelineCommand(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        request: { type: 'string' },
        bucket: { type: 'string' },
        's3-endpoint': { type: 'string' },
        store: { type: 'string' },
        verbose: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    throw new UsageError(`reading pipeline flags: ${(err as Error).message}`);
  }
  if (values.help) {
    process.stdout.write(`${PIPELINE_USAGE}\n`);
    return 0;
  }
  const requestFile = values.request as string | undefined;
  if (!requestFile) throw new UsageError('reading pipeline flags: --request FILE is required');
  if (values.store && values.bucket)
    throw new UsageError('reading pipeline flags: --store and --bucket are exclusive');
  if (values['s3-endpoint'] && !values.bucket)
    throw new UsageError('reading pipeline flags: --s3-endpoint needs --bucket');
  let body: unknown;
  try {
    body = JSON.parse(await readFile(requestFile, 'utf8'));
  } catch (err) {
    throw new UsageError(`reading build request ${requestFile}: ${(err as Error).message}`);
  }
  const store: Store = values.bucket
    ? new S3Store({
        bucket: values.bucket as string,
        ...(values['s3-endpoint'] ? { endpoint: values['s3-endpoint'] as string } : {}),
      })
    : new LocalDirStore(path.resolve((values.store as string | undefined) ?? 'out/store'));
  if (values.verbose) {
    // Powertools writes JSON lines to stdout; stdout is for the outcome, so logs go to stderr.
    process.env.POWERTOOLS_DEV ??= 'true';
    console.log = console.error;
    console.info = console.error;
  }
  const outcome = await runPipeline(body, store, { verbose: Boolean(values.verbose) });
  process.stdout.write(`${JSON.stringify(outcome, null, 2)}\n`);
  if (outcome.status === 'FAILED')
    process.stderr.write(
      `error: build ${outcome.buildId} failed; see ${outcome.reportKey} in ${outcome.store}\n`,
    );
  return outcome.status === 'SUCCEEDED' ? 0 : 1;
}
