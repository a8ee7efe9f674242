// `catalog-build pipeline` as a user runs it: a separate process, the sample manifests
// (the Choice's manifest-directory branch: no App Registry), a local directory store or an
// S3 bucket on s3rver; the execution's outcome as JSON on stdout, the report in the store.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PipelineOutcome } from '../../../functions/local/pipeline.js';
import type { BuildReport } from '../../../lib/stages/report.js';
import { getJson } from '../../../lib/store/store.js';
import { type S3TestServer, startS3Server } from '../../support/s3-server.js';
import { REPO_ROOT } from '../../support/shared-corpus.js';

let work: string;
let s3: S3TestServer;
beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'pipeline-cli-'));
  s3 = await startS3Server();
});
afterAll(async () => {
  await s3?.stop();
  await rm(work, { recursive: true, force: true });
});

/** Runs the CLI asynchronously (s3rver answers from this process). */
function catalogBuild(
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(REPO_ROOT, 'functions/local/main.ts'), ...args],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, NODE_OPTIONS: '--openssl-legacy-provider' },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

async function requestFile(name: string, body: unknown): Promise<string> {
  const file = path.join(work, name);
  await writeFile(file, JSON.stringify(body));
  return file;
}

describe('catalog-build pipeline', () => {
  it('carries indexFormat fbc through the state machine into an FBC image', async () => {
    const image = path.join(work, 'fbc-image');
    const request = await requestFile('fbc.json', {
      buildId: 'cli-fbc',
      manifestDir: path.join(REPO_ROOT, 'examples', 'manifests'),
      indexFormat: 'fbc',
      from: 'scratch',
      to: `oci:${image}:latest`,
      sourceDateEpoch: 0,
    });
    const storeDir = path.join(work, 'store-fbc');
    const run = await catalogBuild(['pipeline', '--request', request, '--store', storeDir]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const layout = JSON.parse(await readFile(path.join(image, 'index.json'), 'utf8'));
    const blob = async (d: string) =>
      JSON.parse(await readFile(path.join(image, 'blobs', 'sha256', d.slice(7)), 'utf8'));
    const manifest = await blob(layout.manifests[0].digest);
    const config = await blob(manifest.config.digest);
    expect(config.config).toMatchObject({
      Labels: { 'operators.operatorframework.io.index.configs.v1': '/configs' },
      Entrypoint: ['/bin/opm'],
    });
    const report = JSON.parse(
      await readFile(path.join(storeDir, 'builds', 'cli-fbc', 'report.json'), 'utf8'),
    ) as BuildReport;
    expect(report.counts.bundles).toBeGreaterThan(0);
    // The report (like the stage result the state carried) names the file list in the store.
    expect(report.index).toMatchObject({
      format: 'fbc',
      filesKey: 'builds/cli-fbc/catalog-files.json',
    });
    const files = JSON.parse(
      await readFile(path.join(storeDir, 'builds', 'cli-fbc', 'catalog-files.json'), 'utf8'),
    ) as Array<{ path: string; size: number }>;
    expect(files).toHaveLength(report.index!.fileCount);
    expect(files.reduce((n, f) => n + f.size, 0)).toBe(report.index!.fileBytes);
    expect(files.some((f) => f.path.startsWith('configs/'))).toBe(true);
    const md = await readFile(path.join(storeDir, 'builds', 'cli-fbc', 'report.md'), 'utf8');
    expect(md).toContain(`- Index (fbc): ${files.length} files (`);
  });

  it('builds the sample manifests into a local store and prints the outcome as JSON', async () => {
    const request = await requestFile('local.json', {
      buildId: 'cli-local',
      manifestDir: path.join(REPO_ROOT, 'examples', 'manifests'),
      sourceDateEpoch: 0,
    });
    const storeDir = path.join(work, 'store');
    const run = await catalogBuild(['pipeline', '--request', request, '--store', storeDir]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const outcome = JSON.parse(run.stdout) as PipelineOutcome;
    expect(outcome).toMatchObject({
      buildId: 'cli-local',
      status: 'SUCCEEDED',
      reportKey: 'builds/cli-local/report.json',
      output: { outcome: 'succeeded' },
    });
    const report = JSON.parse(
      await readFile(path.join(storeDir, 'builds', 'cli-local', 'report.json'), 'utf8'),
    ) as BuildReport;
    expect(report.stages.map((s) => s.stage)).toEqual(['preflight', 'build-index']);
    expect(report.counts.bundles).toBeGreaterThan(0);
    expect(report.push).toBeNull();
  });

  it('uses an S3 bucket through --s3-endpoint (path-style), carrying indexFormat to the report', async () => {
    const store = await s3.newStore('pipeline-cli');
    const request = await requestFile('s3.json', {
      buildId: 'cli-s3',
      manifestDir: path.join(REPO_ROOT, 'examples', 'manifests'),
      indexFormat: 'sqlite',
    });
    const run = await catalogBuild([
      'pipeline',
      '--request',
      request,
      '--s3-endpoint',
      s3.endpoint,
      '--bucket',
      store.bucket,
    ]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      status: 'SUCCEEDED',
      store: 's3://pipeline-cli',
    });
    const report = await getJson<BuildReport>(store, 'builds/cli-s3/report.json');
    expect(report.outcome).toBe('succeeded');
    // The state machine handed the request's format to build-index: a schema-13 DB.
    expect(report.index?.format).toBe('sqlite');
    expect(report.index?.counts.properties).toBeGreaterThan(0);
    expect(report.request?.indexFormat).toBe('sqlite');
    expect(await store.head('builds/cli-s3/bundles.db')).toBeDefined();
  });

  it('refuses a bad request with exit status 2 and every problem named', async () => {
    const request = await requestFile('bad.json', { to: 'r.example/x:1', token: 'abcd' });
    const run = await catalogBuild([
      'pipeline',
      '--request',
      request,
      '--store',
      path.join(work, 'bad'),
    ]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('validating build request: unknown field "token"');
    expect(run.stderr).toContain('to needs from');
    expect((await catalogBuild(['pipeline'])).code).toBe(2);
  });
});
