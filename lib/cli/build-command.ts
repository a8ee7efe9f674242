// `catalog-build [flags]`: the one-machine run of a build, flag-compatible with
// `oc adm catalog build`. It runs the same stage functions as the Step Functions pipeline, in
// order, against a local-directory store (the embedded default), records each stage's result
// like the pipeline does, and always ends with the report stage, success or failure.
// stdout carries only results ("Pushed sha256:… to <ref>"); everything else goes to stderr.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, constants as fsConstants } from 'node:fs';
import { copyFile, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BuilderError, describeError } from '../errors.js';
import { fsCause } from '../fs-errors.js';
import { DEFAULT_INDEX_FORMAT } from '../index/catalog-formats.js';
import { FBC_OUTPUT_CONFIGS } from '../index/fbc-image.js';
import { redactText, registerSecret, registerUrlSecrets } from '../redact.js';
import { buildIndex, describeFormats } from '../stages/build-index.js';
import { newBuildId } from '../stages/build-request.js';
import { secondCpuAvailable, WorkerDocumentDecoder } from '../stages/document-decoder.js';
import type { BundlePulls } from '../stages/fetch-bundle.js';
import { report } from '../stages/report.js';
import { runRecorded } from '../stages/stage-results.js';
import type {
  BuildIndexResult,
  FetchedPackage,
  ReportRequest,
  StageDeps,
  StageName,
} from '../stages/types.js';
import { buildKeys } from '../store/keys.js';
import { LocalDirStore } from '../store/local-dir-store.js';
import { putJson } from '../store/store.js';
import { BUILD_FLAGS, parseBuildOptions } from './build-options.js';
import { CliConsole, formatBytes } from './console.js';
import { formatFlagHelp } from './flags.js';

export const BUILD_USAGE = `Usage: catalog-build [flags]

Builds an operator-registry catalog image, like "oc adm catalog build": downloads every
package of an App Registry namespace (or reads --manifest-dir), builds the catalog and
appends it as one layer to --from, pushed to --to. --index-format picks the catalog:
  sqlite-v7  the SQLite index oc 4.5 built (bundles.db, schema 7, operator-registry v1.8.0
             rules; CRDs apiextensions v1 are refused as then). The default.
  sqlite     the SQLite index opm v1.26.5 builds (bundles.db, schema 13: v1 CRDs accepted,
             properties and dependencies tables). Built directly, never by migration.
  fbc        a file-based catalog (<package>/catalog.json), what current opm serves: the
             image gets /configs, the pre-built serve cache in /tmp/cache and opm's
             Entrypoint/Cmd (--from must provide /bin/opm); --to-fbc DIR writes it locally.
             Packages opm validate would refuse are left out with a named warning.

Examples:
  # Build from a local manifests directory into a database file, offline
  catalog-build --manifest-dir examples/manifests --to-db out/bundles.db

  # The same as a schema-13 database for current OLM
  catalog-build --manifest-dir examples/manifests --index-format sqlite --to-db out/bundles.db

  # A file-based catalog directory, and an image of it on an opm base
  catalog-build --manifest-dir examples/manifests --index-format fbc --to-fbc out/catalog
  catalog-build --manifest-dir examples/manifests --index-format fbc \\
    --from quay.io/operator-framework/opm:v1.26.5 --to registry.example/ns/catalog:v1

  # The full upstream command line
  catalog-build --appregistry-org redhat-operators --from registry.example/ns/operator-registry:v4.5 \\
    --to registry.example/ns/redhat-operators:v1 -a ~/.docker/config.json

Other commands:
  catalog-build serve-appregistry --dir DIR --org ORG [--port N] [--token T]
  catalog-build pipeline --request build.json [--store DIR | --s3-endpoint URL --bucket NAME]

Flags:
`;

/** A local output file (database, digest, report) that cannot be written. */
export class OutputWriteError extends BuilderError {
  override name = 'OutputWriteError';
}

/**
 * Writes a local output atomically: to a temporary name beside it, renamed over the old file
 * only when complete, so a failure (disk full half-way) leaves the previous output exactly
 * as it was. A stream is copied through (the DB can be large).
 */
export async function writeOutput(
  what: string,
  file: string,
  data: Uint8Array | string | Readable | { copyOf: string },
): Promise<void> {
  const target = path.resolve(file);
  const tmp = path.join(
    path.dirname(target),
    `.${path.basename(target)}.tmp-${randomBytes(6).toString('hex')}`,
  );
  try {
    await mkdir(path.dirname(target), { recursive: true });
    if (data instanceof Readable) await pipeline(data, createWriteStream(tmp, { flags: 'wx' }));
    else if (typeof data === 'object' && 'copyOf' in data)
      // The kernel copies (copy_file_range): a 1 GB database never passes through this process.
      await copyFile(data.copyOf, tmp, fsConstants.COPYFILE_EXCL);
    else await writeFile(tmp, data, { flag: 'wx' });
    await rename(tmp, target);
  } catch (cause) {
    if (data instanceof Readable) data.destroy();
    await rm(tmp, { force: true }).catch(() => {});
    throw new OutputWriteError(`writing ${what}: ${fsCause(cause)}`, { cause });
  }
}

/** A bundle reference as a stage record item name (a path segment): readable, and unique by hash. */
function bundleItem(ref: string): string {
  const hash = createHash('sha256').update(ref).digest('hex').slice(0, 12);
  return `${ref
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 180)}-${hash}`;
}

export async function buildCommand(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const { request, local } = parseBuildOptions(argv, { env, buildId: newBuildId() });
  if (local.help) {
    process.stdout.write(`${BUILD_USAGE}${formatFlagHelp(BUILD_FLAGS)}\n`);
    return 0;
  }
  const cli = new CliConsole({ quiet: local.quiet, verbose: local.verbose });
  if (local.skipVerification)
    cli.log.warn(
      '--skip-verification is accepted for oc compatibility; digests are always verified',
    );
  const store = new LocalDirStore(local.storeDir);
  const keys = buildKeys(request.buildId);
  registerSecret(local.authToken);
  if (request.appRegistry) registerUrlSecrets(request.appRegistry.endpoint);
  const deps: StageDeps = {
    store,
    log: cli.log,
    progress: cli.progress,
    ...(request.timeouts ? { timeouts: request.timeouts } : {}),
    ...(request.maxManifestBytes ? { maxManifestBytes: request.maxManifestBytes } : {}),
    credentials: {
      ...(local.authToken ? { appRegistryToken: local.authToken } : {}),
      ...(local.registryConfig ? { registryAuthFile: local.registryConfig } : {}),
    },
  };
  // Local prerequisites first (a usage error, exit 2): nothing is downloaded for a build
  // whose auth file, store or output path cannot work.
  const { checkLocalPrerequisites } = await import('./preflight.js');
  await checkLocalPrerequisites(local);
  const started = Date.now();
  let stage: StageName = 'list-packages';
  const step = <T>(name: StageName, run: () => Promise<T>) => {
    stage = name;
    return runRecorded(store, request.buildId, name, run);
  };

  let outcome: ReportRequest['outcome'] = 'succeeded';
  let failure: ReportRequest['failure'];
  let indexed: BuildIndexResult | undefined;
  let fetched: FetchedPackage[] = [];
  let pulls: BundlePulls | undefined;
  // Package manifests are decoded on a second thread while the main one loads and writes, where
  // there is a second CPU; bundle images are decoded as they are pulled, on the main thread.
  const decoder = new WorkerDocumentDecoder({ warn: (m) => cli.log.warn(m) });
  const decoding = !request.bundles && secondCpuAvailable();
  if (decoding) decoder.start();
  else await decoder.close();
  cli.log.debug(
    decoding
      ? 'decoding manifests on a second thread'
      : `decoding manifests on the main thread (${request.bundles ? 'bundle images' : 'one CPU available'})`,
  );
  try {
    await putJson(store, keys.request, request);
    if (request.to && request.from) {
      // The end's needs (destination answers and takes our credentials, base resolves)
      // before the first download: the state machine's first state runs the same stage.
      const { preflight } = await import('../stages/preflight.js');
      cli.step('checking the destination and the base image');
      const fromDir = local.fromDir ?? local.dir;
      await step('preflight', () =>
        preflight(
          {
            buildId: request.buildId,
            to: request.to,
            from: request.from,
            ...(request.filterByOs ? { filterByOs: request.filterByOs } : {}),
            ...(request.insecure ? { insecure: true } : {}),
            ...(request.maxPerRegistry ? { maxPerRegistry: request.maxPerRegistry } : {}),
            ...(fromDir ? { fromDir } : {}),
          },
          deps,
        ),
      );
      stage = 'list-packages';
    }
    if (request.appRegistry) {
      const source = request.appRegistry;
      // Loaded on demand: an offline build never pays for the HTTP clients.
      const { listPackages } = await import('../stages/list-packages.js');
      const { buildPackagesJson, fetchPackages } = await import('../stages/fetch-package.js');
      cli.step(`listing packages of ${source.org} at ${source.endpoint}`);
      const listing = await step('list-packages', () =>
        listPackages({ buildId: request.buildId, appRegistry: source }, deps),
      );
      stage = 'fetch-package';
      fetched = await fetchPackages(
        { buildId: request.buildId, appRegistry: source, packages: listing.packages },
        {
          ...deps,
          ...(request.decodeLimits ? { decodeLimits: request.decodeLimits } : {}),
          wrapItem: (ref, run) =>
            runRecorded(store, request.buildId, 'fetch-package', run, { item: ref.name }),
        },
      );
      cli.endLive();
      await putJson(store, keys.packages, buildPackagesJson(source, fetched));
      if (local.unpackDir) {
        const { unpackPackages } = await import('./unpack.js');
        await unpackPackages(store, fetched, local.unpackDir, request.decodeLimits);
      }
    }
    if (request.bundles) {
      const { startBundlePulls } = await import('../stages/fetch-bundle.js');
      cli.step(
        `pulling ${request.bundles.length} bundle image${request.bundles.length === 1 ? '' : 's'}`,
      );
      stage = 'fetch-bundle';
      // Started, not awaited: build-index loads each bundle as soon as its own pull is done.
      pulls = startBundlePulls(
        {
          buildId: request.buildId,
          bundles: request.bundles,
          ...(request.insecure ? { insecure: true } : {}),
          ...(request.maxPerRegistry ? { maxPerRegistry: request.maxPerRegistry } : {}),
        },
        {
          ...deps,
          wrapItem: (ref, run) =>
            runRecorded(store, request.buildId, 'fetch-bundle', run, { item: bundleItem(ref) }),
        },
      );
    }
    cli.step(
      (request.indexFormat ?? DEFAULT_INDEX_FORMAT) === 'fbc'
        ? 'building the file-based catalog'
        : 'building the index database',
    );
    indexed = await step('build-index', () =>
      buildIndex(
        {
          buildId: request.buildId,
          ...(request.appRegistry
            ? { packages: fetched }
            : pulls
              ? {}
              : { manifestDir: request.manifestDir! }),
          ...(request.sourceDateEpoch !== undefined
            ? { sourceDateEpoch: request.sourceDateEpoch }
            : {}),
          ...(request.decodeLimits ? { decodeLimits: request.decodeLimits } : {}),
          ...(request.indexFormat ? { indexFormat: request.indexFormat } : {}),
        },
        pulls && request.bundles
          ? { ...deps, pullingBundles: { refs: request.bundles, each: pulls.each } }
          : { ...deps, ...(decoding ? { decoder } : {}) },
      ),
    ).finally(() => decoder.close());
    if (pulls) await pulls.all;
    if (local.toDb)
      await writeOutput(`the database to ${local.toDb}`, local.toDb, {
        copyOf: store.fileOf(indexed.dbKey),
      });
    if (local.toFbc) {
      const { writeFbcDirectory } = await import('./fbc-output.js');
      const n = await writeFbcDirectory(store, request.buildId, local.toFbc);
      cli.step(`wrote ${n} catalog.json file${n === 1 ? '' : 's'} to ${local.toFbc}`);
    }
    if (request.to && request.from) {
      const { runImageStages } = await import('./image-steps.js');
      const pushed = await runImageStages(request, local, indexed, deps, step);
      process.stdout.write(`Pushed ${pushed.digest} to ${request.to}\n`);
      if (local.digestFile)
        await writeOutput(
          `the digest to ${local.digestFile}`,
          local.digestFile,
          `${pushed.digest}\n`,
        );
    }
  } catch (err) {
    cli.endLive();
    // Every pull is over before the report (a load that failed early leaves some running).
    // A failed pull stops the overlapping load (build-index) with the pulls' own error (the
    // one that names each image, or the registry client's): the failure is fetch-bundle's.
    const pullError = pulls
      ? await pulls.all.then(
          () => undefined,
          (e: unknown) => e,
        )
      : undefined;
    if (pullError !== undefined && err === pullError) stage = 'fetch-bundle';
    outcome = 'failed';
    failure = { stage, ...describeError(err) };
    failure.message = redactText(failure.message);
  }

  await decoder.close(); // already closed after build-index, unless the build failed before it
  const reported = await report(
    { buildId: request.buildId, outcome, ...(failure ? { failure } : {}) },
    deps,
  ).catch((err: unknown) => {
    cli.log.warn(`writing the build report: ${describeError(err).message}`);
    return undefined;
  });
  if (reported && local.toDb && !failure) {
    // The same report next to the database, for people who never look into the store.
    const base = local.toDb.replace(/\.db$/, '');
    try {
      await writeOutput('the report', `${base}.report.json`, await store.get(reported.reportKey));
      await writeOutput('the report', `${base}.report.md`, await store.get(reported.reportMdKey));
    } catch (err) {
      cli.log.warn(describeError(err).message);
    }
  }
  cli.endLive();
  if (failure) {
    cli.log.error(failure.message);
    return 1;
  }
  if (indexed && !local.toDb && !local.toFbc && !request.to) {
    // No output target: the store is the result (documented for store-only builds), so say
    // where it is even with --quiet — a build must never look as if it went nowhere.
    const where =
      indexed.indexFormat === 'fbc' ? `${keys.catalogFile(FBC_OUTPUT_CONFIGS)}/` : keys.db;
    process.stderr.write(
      `no --to, --to-db or --to-fbc given: the catalog is only in the store, at ${path.join(local.storeDir, ...where.split('/'))}\n`,
    );
  }
  summarize(cli, {
    fetched,
    indexed,
    seconds: (Date.now() - started) / 1000,
    toDb: local.toDb,
    reportKey: reported?.reportMdKey,
    storeDir: local.storeDir,
  });
  return 0;
}

function summarize(
  cli: CliConsole,
  s: {
    fetched: FetchedPackage[];
    indexed?: BuildIndexResult;
    seconds: number;
    toDb?: string;
    reportKey?: string;
    storeDir: string;
  },
): void {
  const parts: string[] = [];
  if (s.fetched.length > 0) {
    const downloaded = s.fetched.filter((p) => p.downloaded);
    const bytes = downloaded.reduce((n, p) => n + p.size, 0);
    parts.push(
      `packages ${s.fetched.length} (downloaded ${downloaded.length}, ${formatBytes(bytes)}; cached ${s.fetched.length - downloaded.length})`,
    );
  }
  if (s.indexed?.formats) parts.push(`manifests: found ${describeFormats(s.indexed.formats)}`);
  if (s.indexed) {
    const t = s.indexed.totals;
    const format = s.indexed.indexFormat;
    parts.push(
      `index${format === DEFAULT_INDEX_FORMAT ? '' : ` (${format})`}: ${t.packages} packages, ${t.channels} channels, ${t.bundles} bundles, ${s.indexed.warningCount} warnings, ${formatBytes(s.indexed.fileBytes)}`,
    );
  }
  if (s.toDb) parts.push(`database: ${s.toDb}`);
  if (s.reportKey) parts.push(`report: ${path.join(s.storeDir, ...s.reportKey.split('/'))}`);
  parts.push(`done in ${s.seconds.toFixed(2)}s`);
  for (const p of parts) cli.step(p);
}
