// `serverless package` (osls + serverless-step-functions + serverless-esbuild) run offline,
// with no AWS credentials in its environment, and assertions on what it produced: the
// CloudFormation template (functions, sizing, IAM scoping, bucket protection, API auth,
// schedule and EventBridge rules, the state machine) and the per-function zips (size budget,
// the sql.js wasm beside the index builder). No CloudFormation linter is installable here.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localTimeoutMs } from '../../../functions/commons/local-handlers.js';
import sizes from '../../../infra/function-sizes.json' with { type: 'json' };
import { REPO_ROOT } from '../../support/shared-corpus.js';

// CloudFormation JSON read back for assertions: deliberately untyped past the top level.
// biome-ignore lint/suspicious/noExplicitAny: arbitrary template properties
type Resource = { Type: string; Properties: Record<string, any> };
let outDir: string;
let resources: Record<string, Resource>;
const FUNCTIONS = [
  'preflight',
  'listPackages',
  'fetchPackage',
  'listBundles',
  'fetchBundle',
  'buildIndex',
  'assembleImage',
  'pushImage',
  'report',
  'api',
  'watch',
  'baseImage',
];
const logical = (fn: string) => `${fn[0]!.toUpperCase()}${fn.slice(1)}LambdaFunction`;

beforeAll(() => {
  outDir = mkdtempSync(path.join(os.tmpdir(), 'sls-package-'));
  // The packager stages each function in a temporary directory of its own and leaves it
  // behind; giving it one inside outDir lets afterAll remove them with the rest.
  const tmp = path.join(outDir, 'tmp');
  mkdirSync(tmp);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
  };
  for (const k of Object.keys(env)) if (k.startsWith('AWS_')) delete env[k];
  execFileSync(
    path.join(REPO_ROOT, 'node_modules', '.bin', 'serverless'),
    ['package', '--stage', 'test', '--package', outDir],
    {
      cwd: REPO_ROOT,
      env: { ...env, HOME: outDir, TMPDIR: tmp },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 240_000,
    },
  );
  resources = JSON.parse(
    readFileSync(path.join(outDir, 'cloudformation-template-update-stack.json'), 'utf8'),
  ).Resources;
}, 300_000);
afterAll(() => {
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

const statements = (role: string) =>
  resources[role]!.Properties.Policies.flatMap(
    (p: { PolicyDocument: { Statement: unknown[] } }) => p.PolicyDocument.Statement,
  ) as Array<{
    Sid: string;
    Action: string | string[];
    Resource: unknown;
  }>;
const actions = (role: string) =>
  statements(role).flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));

describe('serverless package (offline)', () => {
  it('packages every function for nodejs22.x, each zip within the 3 MB budget', () => {
    for (const fn of FUNCTIONS) {
      const f = resources[logical(fn)]!;
      expect(f.Type).toBe('AWS::Lambda::Function');
      expect(f.Properties.Runtime).toBe('nodejs22.x');
      expect(statSync(path.join(outDir, `${fn}.zip`)).size).toBeLessThanOrEqual(3 * 1024 * 1024);
    }
    const sized = Object.fromEntries(
      FUNCTIONS.map((fn) => [
        fn,
        [resources[logical(fn)]!.Properties.MemorySize, resources[logical(fn)]!.Properties.Timeout],
      ]),
    );
    expect(sized).toMatchObject({
      buildIndex: [2048, 900],
      fetchPackage: [512, 300],
      report: [1024, 120],
      api: [1024, 29],
    });
    // One source for sizes: the template and the local runner both read function-sizes.json.
    for (const fn of FUNCTIONS) {
      const size = sizes[fn as keyof typeof sizes];
      expect(sized[fn], fn).toEqual([size.memorySize, size.timeout]);
      expect(localTimeoutMs(logical(fn).replace(/LambdaFunction$/, ''))).toBe(size.timeout * 1000);
    }
    for (const fn of ['report', 'api'])
      expect(
        execFileSync('unzip', ['-l', path.join(outDir, `${fn}.zip`)], { encoding: 'utf8' }),
      ).toContain('node_modules/sql.js/dist/sql-wasm.wasm');
    const listing = execFileSync('unzip', ['-l', path.join(outDir, 'buildIndex.zip')], {
      encoding: 'utf8',
    });
    expect(listing).toContain('node_modules/sql.js/dist/sql-wasm.wasm');
    expect(listing).toContain('functions/build-index.js');
    expect(
      resources.BuildIndexLambdaFunction!.Properties.Environment.Variables.SQLJS_WASM_PATH,
    ).toBe('/var/task/node_modules/sql.js/dist/sql-wasm.wasm');
  });

  it('keeps the store private and encrypted, with builds/ expiring', () => {
    const bucket = resources.CatalogBucket!.Properties;
    expect(
      bucket.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault
        .SSEAlgorithm,
    ).toBe('aws:kms');
    expect(bucket.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket.LifecycleConfiguration.Rules).toContainEqual(
      expect.objectContaining({ Prefix: 'builds/', ExpirationInDays: 30, Status: 'Enabled' }),
    );
    const deny = resources.CatalogBucketPolicy!.Properties.PolicyDocument.Statement[0];
    expect(deny).toMatchObject({
      Effect: 'Deny',
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    });
  });

  it('gives each function only its own role, scoped to the bucket, the secrets prefix and the state machine', () => {
    const roles = Object.fromEntries(
      FUNCTIONS.map((fn) => [fn, resources[logical(fn)]!.Properties.Role]),
    );
    expect(roles).toMatchObject({
      preflight: { 'Fn::GetAtt': ['PreflightRole', 'Arn'] },
      buildIndex: { 'Fn::GetAtt': ['StageRole', 'Arn'] },
      api: { 'Fn::GetAtt': ['ApiRole', 'Arn'] },
      watch: { 'Fn::GetAtt': ['TriggerRole', 'Arn'] },
      baseImage: { 'Fn::GetAtt': ['TriggerRole', 'Arn'] },
    });
    for (const role of ['PreflightRole', 'StageRole', 'ApiRole', 'TriggerRole']) {
      expect(actions(role).some((a) => a === '*' || a.endsWith(':*'))).toBe(false);
      for (const s of statements(role)) {
        const res = JSON.stringify(s.Resource);
        if (String(s.Action).startsWith('s3:')) expect(res).toContain('CatalogBucket');
        if (String(s.Action).startsWith('states:StartExecution'))
          expect(res).toContain('CatalogBuildStateMachine');
        if (String(s.Action).startsWith('secretsmanager:'))
          expect(res).toContain(':secret:catalog-build/*');
        if (res === '"*"') expect(s.Action).toBe('ecr:GetAuthorizationToken');
      }
    }
    expect(actions('ApiRole')).not.toContain('secretsmanager:GetSecretValue');
    expect(actions('ApiRole')).not.toContain('s3:DeleteObject');
    expect(actions('TriggerRole')).not.toContain('ecr:PutImage');
    expect(actions('StageRole')).not.toContain('states:StartExecution');
    // Preflight reads and pulls; it writes only its stage record and never pushes.
    expect(actions('PreflightRole').sort()).toEqual(
      [
        'ecr:BatchCheckLayerAvailability',
        'ecr:BatchGetImage',
        'ecr:GetAuthorizationToken',
        'ecr:GetDownloadUrlForLayer',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        's3:PutObject',
        'secretsmanager:GetSecretValue',
      ].sort(),
    );
    expect(
      JSON.stringify(
        statements('PreflightRole').find((s) => s.Action === 's3:PutObject')!.Resource,
      ),
    ).toContain('/builds/*');
    const invoke = JSON.stringify(resources.CatalogBuildStateMachineRole!.Properties.Policies);
    expect(invoke).toContain('lambda:InvokeFunction');
    expect(invoke).not.toContain('ApiLambdaFunction');
    // The Distributed Map's run: it reads the names object of the bucket and starts and
    // watches child executions of this same state machine, nothing wider.
    const sfnStatements = resources.CatalogBuildStateMachineRole!.Properties.Policies.flatMap(
      (p: { PolicyDocument: { Statement: unknown[] } }) => p.PolicyDocument.Statement,
    ) as Array<{ Action: string | string[]; Resource: unknown }>;
    const allowed = (action: string) =>
      sfnStatements
        .filter((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]).includes(action))
        .map((s) => JSON.stringify(s.Resource));
    expect(allowed('s3:GetObject').join()).toContain('CatalogBucket');
    expect(allowed('s3:PutObject')).toEqual([]);
    expect(allowed('states:StartExecution').join()).toContain(
      'stateMachine:olm-catalog-builder-test',
    );
    expect(allowed('states:DescribeExecution').join()).toContain(
      'execution:olm-catalog-builder-test',
    );
  });

  it('deploys the state machine from infra/state-machine.asl.json with the stage functions wired in', () => {
    const sm = resources.CatalogBuildStateMachine!.Properties;
    const text = JSON.stringify(sm.DefinitionString);
    for (const fn of [
      'Preflight',
      'ListPackages',
      'FetchPackage',
      'ListBundles',
      'FetchBundle',
      'BuildIndex',
      'AssembleImage',
      'PushImage',
      'Report',
    ])
      expect(text).toContain(`${fn}LambdaFunction`);
    expect(text).toContain('MaxConcurrency');
    expect(text).toContain('StoreUnavailableError');
  });

  it('exposes POST/GET /builds and the report page with IAM authorization, a schedule for the watcher and an ECR push rule', () => {
    const routes = Object.values(resources).filter((r) => r.Type === 'AWS::ApiGatewayV2::Route');
    expect(routes.map((r) => r.Properties.RouteKey).sort()).toEqual([
      'GET /builds/{id}',
      'GET /builds/{id}/report.html',
      'POST /builds',
    ]);
    for (const r of routes) expect(r.Properties.AuthorizationType).toBe('AWS_IAM');
    const rules = Object.values(resources).filter((r) => r.Type === 'AWS::Events::Rule');
    expect(rules.some((r) => r.Properties.ScheduleExpression === 'rate(6 hours)')).toBe(true);
    const ecr = rules.find((r) => r.Properties.EventPattern)!.Properties.EventPattern;
    expect(ecr).toMatchObject({
      source: ['aws.ecr'],
      'detail-type': ['ECR Image Action'],
      detail: { 'action-type': ['PUSH'], result: ['SUCCESS'] },
    });
  });
});
