// Bundle builds through the serverless pipeline, end to end on this machine: bundle images of
// the reference corpus pushed with skopeo to a real docker-registry (htpasswd), the real state
// machine definition and handlers (ListBundles → one FetchBundle Lambda per bundle → BuildIndex)
// with s3rver as the bucket. The catalog must be the one `catalog-build --bundles` builds from
// the same images — the FBC files byte for byte, the schema-13 DB by digest — and a reference
// that names no image, or an image that is no bundle, ends as that bundle's warning in the
// report, not as a failed build.
// The same packages as bundle-format folders uploaded under a key prefix of the bucket build,
// through the pipeline's `bundlePrefix`, the catalog `catalog-build --manifest-dir` builds.
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invokeLocalFunction } from '../../functions/commons/local-handlers.js';
import { setFunctionRuntime } from '../../functions/commons/runtime.js';
import { runPipeline, secretEnvName } from '../../functions/local/pipeline.js';
import definition from '../../infra/state-machine.asl.json' with { type: 'json' };
import {
  executionInput,
  saveBuildRequest,
  validateBuildRequest,
} from '../../lib/stages/build-request.js';
import { runLocalExecution } from '../../lib/stages/pipeline-local.js';
import type { BuildReport } from '../../lib/stages/report.js';
import type { BuildIndexResult, CatalogFileRef } from '../../lib/stages/types.js';
import type { S3Store } from '../../lib/store/s3-store.js';
import { getJson } from '../../lib/store/store.js';
import {
  BUNDLES_LAYOUT,
  BUNDLES_PACKAGES,
  BUNDLES_TITLE_NOTE,
  HAVE_BUNDLES_CORPUS,
} from '../support/bundles-corpus.js';
import { pushRandomImage } from '../support/random-image.js';
import { type RegistryServer, startRegistry } from '../support/registry-server.js';
import { runCli } from '../support/run-cli.js';
import { type S3TestServer, startS3Server } from '../support/s3-server.js';
import { skopeo } from '../support/skopeo.js';

/** Whole packages (every bundle of each), so channels and upgrade graphs are complete. */
const PACKAGES = [
  'etcd-bundle',
  'apicurito-bundle',
  'community-trivy-operator-bundle',
  'tagger-bundle',
];
const AUTH_SECRET = 'e2e/bundle-registry-auth';

describe.skipIf(!HAVE_BUNDLES_CORPUS)(
  `bundle builds through the pipeline${BUNDLES_TITLE_NOTE}`,
  () => {
    let s3: S3TestServer;
    let registry: RegistryServer;
    let store: S3Store;
    let work: string;
    let authFile: string;
    let env: NodeJS.ProcessEnv;
    const refs: string[] = [];
    let missing: string;
    let notABundle: string;
    /** What the pipeline builds from: the images, a reference to nothing, an image that is no bundle. */
    const requested = () => [...refs.slice(0, 3), missing, ...refs.slice(3), notABundle];

    beforeAll(async () => {
      work = mkdtempSync(path.join(os.tmpdir(), 'e2e-bundles-'));
      [s3, registry] = await Promise.all([startS3Server(), startRegistry({ auth: 'htpasswd' })]);
      store = await s3.newStore('catalog-bundles');
      authFile = registry.authFile();
      env = { [secretEnvName(AUTH_SECRET)]: readFileSync(authFile, 'utf8') };
      const index = JSON.parse(readFileSync(path.join(BUNDLES_LAYOUT, 'index.json'), 'utf8')) as {
        manifests: { annotations: Record<string, string> }[];
      };
      const tags = index.manifests
        .map((m) => m.annotations['org.opencontainers.image.ref.name']!)
        .filter((t) => PACKAGES.includes(t.split(':')[0]!));
      for (const tag of tags) {
        skopeo(
          'copy',
          '--dest-tls-verify=false',
          '--dest-creds',
          `${registry.username}:${registry.password}`,
          `oci:${BUNDLES_LAYOUT}:${tag}`,
          `docker://${registry.host}/${tag}`,
        );
        refs.push(`${registry.host}/${tag}`);
      }
      missing = `${registry.host}/no-such/operator-bundle:v0.0.1`;
      // An application image, not a bundle: no operators.operatorframework.io.bundle.package.v1.
      notABundle = `${registry.host}/plain/app:v1`;
      await pushRandomImage({ host: registry.host, repository: 'plain/app', tag: 'v1' }, authFile);
    }, 300_000);

    afterAll(async () => {
      setFunctionRuntime(undefined);
      await Promise.all([s3?.stop(), registry?.stop()]);
      if (work) rmSync(work, { recursive: true, force: true });
    });

    /** The CLI's build of the same images: --bundles-file, the registry's auth file. */
    async function cliBuild(format: 'fbc' | 'sqlite', out: string[]) {
      const list = path.join(work, 'bundles.txt');
      writeFileSync(list, `${refs.join('\n')}\n`);
      const run = await runCli([
        '--bundles-file',
        list,
        '-a',
        authFile,
        '--insecure',
        '--index-format',
        format,
        ...out,
        '--store',
        path.join(work, `cli-store-${format}`),
      ]);
      expect(run.stderr).not.toContain('error:');
      expect(run.code).toBe(0);
    }

    /** A pipeline build of the images plus one reference that names no image (in the middle). */
    async function pipelineBuild(buildId: string, format: 'fbc' | 'sqlite') {
      const bundles = requested();
      const outcome = await runPipeline(
        {
          buildId,
          bundles,
          insecure: true,
          registryAuthSecret: AUTH_SECRET,
          indexFormat: format,
          sourceDateEpoch: 0,
        },
        store,
        { env },
      );
      expect(outcome.error).toBeUndefined();
      expect(outcome.status).toBe('SUCCEEDED');
      return { bundles, report: await getJson<BuildReport>(store, outcome.reportKey) };
    }

    it('builds the FBC the CLI builds, one FetchBundle per image; a missing image is a warning', async () => {
      const { bundles, report } = await pipelineBuild('e2e-bundles-fbc', 'fbc');
      expect(report.outcome).toBe('succeeded');
      expect(report.stages.map((s) => [s.stage, s.outcome, s.runs])).toEqual([
        ['preflight', 'succeeded', 1],
        ['list-bundles', 'succeeded', 1],
        ['fetch-bundle', 'succeeded', bundles.length],
        ['build-index', 'succeeded', 1],
      ]);
      // Every bundle's outcome, in request order; the missing image says why it is left out.
      expect(report.bundles!.map((b) => b.source)).toEqual(bundles);
      const left = report.bundles!.find((b) => b.source === missing)!;
      expect(left.outcome).toBe('refused');
      expect(left.message).toMatch(/^not pulled: RegistryNotFoundError: /);
      expect(report.warnings.some((w) => w.includes(missing) && w.includes('left out'))).toBe(true);
      // A malformed bundle (here: no bundle at all) is a warning too, never a failed build.
      expect(report.bundles!.find((b) => b.source === notABundle)).toMatchObject({
        outcome: 'refused',
        message: expect.stringMatching(/^not pulled: BundleImageLabelsError: reading bundle image/),
      });
      expect(report.bundles!.filter((b) => b.outcome === 'loaded').length).toBeGreaterThan(10);
      // Each bundle was pulled by its own fetch-bundle run, recorded by its index.
      const records = await store.list('builds/e2e-bundles-fbc/stages/fetch-bundle/');
      expect(records).toHaveLength(bundles.length);

      const fbcDir = path.join(work, 'cli-fbc');
      await cliBuild('fbc', ['--to-fbc', fbcDir]);
      const files = await getJson<CatalogFileRef[]>(
        store,
        'builds/e2e-bundles-fbc/catalog-files.json',
      );
      const catalogs = files.filter(
        (f) => f.path.startsWith('configs/') && f.path.endsWith('/catalog.json'),
      );
      const cliPackages = readdirSync(fbcDir).sort();
      expect(catalogs.map((f) => f.path.split('/')[1]).sort()).toEqual(cliPackages);
      expect(cliPackages.length).toBe(PACKAGES.length);
      for (const f of catalogs) {
        const ours = Buffer.from(await store.get(f.key));
        const cli = readFileSync(path.join(fbcDir, f.path.split('/')[1]!, 'catalog.json'));
        expect(ours.equals(cli), `${f.path} differs from the CLI's`).toBe(true);
      }
    }, 300_000);

    it('builds the schema-13 DB the CLI builds: the same digest', async () => {
      await pipelineBuild('e2e-bundles-sqlite', 'sqlite');
      const index = await getJson<{ result: BuildIndexResult }>(
        store,
        'builds/e2e-bundles-sqlite/stages/build-index.json',
      );
      const db = path.join(work, 'cli.db');
      await cliBuild('sqlite', ['--to-db', db]);
      const cliDigest = `sha256:${createHash('sha256').update(readFileSync(db)).digest('hex')}`;
      expect(index.result.dbDigest).toBe(cliDigest);
    }, 300_000);

    it('runs the real FetchBundle handler in the Distributed Map too (items read from the bucket)', async () => {
      // The fan-out Choice sends only builds of over 1,000 bundles to the Distributed Map; here
      // it always does, so the handlers meet the ItemReader's items as AWS would hand them over.
      const distributedOnly = structuredClone(definition) as unknown as {
        States: Record<string, Record<string, unknown>>;
      };
      distributedOnly.States.BundleFanOut!.Choices = [
        { Variable: '$.listing.count', NumericLessThan: 0, Next: 'FetchBundles' },
      ];
      const request = validateBuildRequest({
        buildId: 'e2e-bundles-distributed',
        bundles: requested(),
        insecure: true,
        registryAuthSecret: AUTH_SECRET,
        indexFormat: 'fbc',
        sourceDateEpoch: 0,
      });
      await saveBuildRequest(store, request);
      // runPipeline (the tests above) set the handlers' runtime: this store, the secret from env.
      const run = await runLocalExecution(executionInput(request), invokeLocalFunction, {
        executionName: request.buildId,
        definition: distributedOnly,
        readItems: (_bucket, key) => getJson(store, key),
      });
      expect(run.error).toBeUndefined();
      expect(run.status).toBe('SUCCEEDED');
      expect(run.invocations.FetchListedBundle).toBe(request.bundles!.length);
      expect(run.mapRuns.FetchBundlesDistributed).toMatchObject({
        items: request.bundles!.length,
      });
      // The same catalog as through the inline Map.
      const inline = await getJson<CatalogFileRef[]>(
        store,
        'builds/e2e-bundles-fbc/catalog-files.json',
      );
      const distributed = await getJson<CatalogFileRef[]>(
        store,
        'builds/e2e-bundles-distributed/catalog-files.json',
      );
      expect(distributed.map((f) => [f.path, f.digest])).toEqual(
        inline.map((f) => [f.path, f.digest]),
      );
      const report = await getJson<BuildReport>(
        store,
        'builds/e2e-bundles-distributed/report.json',
      );
      expect(report.bundles!.find((b) => b.source === missing)?.message).toMatch(
        /^not pulled: RegistryNotFoundError: /,
      );
    }, 300_000);

    it('builds from bundle folders under a key prefix of the bucket what --manifest-dir builds', async () => {
      // The folders of the same packages, copied out of the corpus into a scratch directory.
      const tree = path.join(work, 'operators');
      for (const p of ['etcd', 'apicurito', 'community-trivy-operator', 'tagger'])
        cpSync(path.join(BUNDLES_PACKAGES, p), path.join(tree, p), { recursive: true });
      const files = readdirSync(tree, { recursive: true, withFileTypes: true }).filter((e) =>
        e.isFile(),
      );
      for (const f of files) {
        const rel = path.relative(tree, path.join(f.parentPath, f.name)).split(path.sep).join('/');
        await store.put(`incoming/operators/${rel}`, readFileSync(path.join(f.parentPath, f.name)));
      }
      for (const format of ['fbc', 'sqlite'] as const) {
        const buildId = `e2e-prefix-${format}`;
        const outcome = await runPipeline(
          {
            buildId,
            bundlePrefix: 'incoming/operators',
            indexFormat: format,
            sourceDateEpoch: 0,
          },
          store,
          { env },
        );
        expect(outcome.error).toBeUndefined();
        expect(outcome.status).toBe('SUCCEEDED');
        const report = await getJson<BuildReport>(store, outcome.reportKey);
        expect(report.stages.map((s) => s.stage)).toEqual(['preflight', 'build-index']);
        expect(report.bundles!.filter((b) => b.outcome === 'loaded').length).toBeGreaterThan(10);
        const index = await getJson<{ result: BuildIndexResult }>(
          store,
          `builds/${buildId}/stages/build-index.json`,
        );
        expect(index.result.formats).toMatchObject({
          bundlePackages: 4,
          packageManifestFiles: 0,
        });
        if (format === 'sqlite') {
          const db = path.join(work, 'cli-dir.db');
          await cliDirBuild(tree, format, ['--to-db', db]);
          const digest = `sha256:${createHash('sha256').update(readFileSync(db)).digest('hex')}`;
          expect(index.result.dbDigest).toBe(digest);
        } else {
          const fbcDir = path.join(work, 'cli-dir-fbc');
          await cliDirBuild(tree, format, ['--to-fbc', fbcDir]);
          const refs = await getJson<CatalogFileRef[]>(store, index.result.filesKey);
          const catalogs = refs.filter((f) => /^configs\/[^/]+\/catalog\.json$/.test(f.path));
          expect(catalogs.map((f) => f.path.split('/')[1]).sort()).toEqual(
            readdirSync(fbcDir).sort(),
          );
          for (const f of catalogs) {
            const ours = Buffer.from(await store.get(f.key));
            const cli = readFileSync(path.join(fbcDir, f.path.split('/')[1]!, 'catalog.json'));
            expect(ours.equals(cli), `${f.path} differs from the CLI's`).toBe(true);
          }
        }
      }
    }, 300_000);

    it('refuses an empty prefix by name, in a report', async () => {
      const outcome = await runPipeline(
        { buildId: 'e2e-prefix-empty', bundlePrefix: 'incoming/nothing-here/' },
        store,
        { env },
      );
      expect(outcome.status).toBe('FAILED');
      const report = await getJson<BuildReport>(store, outcome.reportKey);
      expect(report.failure).toMatchObject({
        stage: 'build-index',
        name: 'ManifestPrefixError',
        message: expect.stringContaining('incoming/nothing-here/: no objects under the prefix'),
      });
    }, 120_000);

    /** The CLI's build of a folder tree: --manifest-dir. */
    async function cliDirBuild(dir: string, format: 'fbc' | 'sqlite', out: string[]) {
      const run = await runCli([
        '--manifest-dir',
        dir,
        '--index-format',
        format,
        ...out,
        '--store',
        path.join(work, `cli-dir-store-${format}`),
      ]);
      expect(run.stderr).not.toContain('error:');
      expect(run.code).toBe(0);
    }
  },
);
