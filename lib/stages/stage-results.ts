// What each stage run leaves behind for the report: a small JSON record per run under
// builds/<id>/stages/, with its timing and its result (or error). Every runner of a stage
// (Lambda handler, local pipeline, CLI) goes through `runRecorded`, so the report stage can
// rebuild the whole build from the store alone, whatever ran it and however it failed.
// Fan-out stages record one file per item (`fetch-package/<name>`), so parallel runs never
// overwrite each other and the Map state's output can be dropped from the execution state.
import { describeError } from '../errors.js';
import { mapAll } from '../http/limiter.js';
import { buildKeys } from '../store/keys.js';
import { getJson, putJson, type Store, StoreNotFoundError } from '../store/store.js';
import type {
  BuildIndexRequest,
  FetchBundleResult,
  FetchedPackage,
  ListBundlesResult,
  ListPackagesResult,
  StageName,
} from './types.js';

export interface StageRecord<T = unknown> {
  stage: StageName;
  /** The item of a fan-out stage (package name), absent otherwise. */
  item?: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  outcome: 'succeeded' | 'failed';
  result?: T;
  error?: { name: string; message: string };
}

/** Store key of a stage's record: `stages/<stage>.json` or `stages/<stage>/<item>.json`. */
export function stageRecordKey(buildId: string, stage: StageName, item?: string): string {
  if (item !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/.test(item)) {
    throw new TypeError(`not a stage item name: ${item}`);
  }
  return buildKeys(buildId).stage(item === undefined ? stage : `${stage}/${item}`);
}

export async function recordStageResult(
  store: Store,
  buildId: string,
  record: StageRecord,
): Promise<void> {
  await putJson(store, stageRecordKey(buildId, record.stage, record.item), record);
}

/**
 * Runs one stage, timing it and recording its result or error; rethrows the error unchanged
 * (the state machine's Retry/Catch match on its name).
 */
export async function runRecorded<T>(
  store: Store,
  buildId: string,
  stage: StageName,
  run: () => Promise<T>,
  options: { item?: string; now?: () => Date } = {},
): Promise<T> {
  const now = options.now ?? (() => new Date());
  const started = now();
  const finish = (
    outcome: StageRecord['outcome'],
    extra: Partial<StageRecord<T>>,
  ): StageRecord<T> => {
    const finished = now();
    return {
      stage,
      ...(options.item === undefined ? {} : { item: options.item }),
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
      durationMs: finished.getTime() - started.getTime(),
      outcome,
      ...extra,
    };
  };
  let result: T;
  try {
    result = await run();
  } catch (err) {
    // Best effort: a store that is down must not hide the stage's own error.
    await recordStageResult(store, buildId, finish('failed', { error: describeError(err) })).catch(
      () => {},
    );
    throw err;
  }
  await recordStageResult(store, buildId, finish('succeeded', { result }));
  return result;
}

/** The record of a stage, or undefined when that stage never ran for the build. */
export async function readStageRecord<T>(
  store: Store,
  buildId: string,
  stage: StageName,
  item?: string,
): Promise<StageRecord<T> | undefined> {
  try {
    return await getJson<StageRecord<T>>(store, stageRecordKey(buildId, stage, item));
  } catch (err) {
    if (err instanceof StoreNotFoundError) return undefined;
    throw err;
  }
}

/**
 * Records read at once: enough to hide S3 latency, few enough for any connection pool. A
 * fan-out stage can leave thousands of records, which must not become thousands of concurrent
 * store reads; the readers below read them through mapAll with this bound (results in item
 * order, every read tried, the first failure in item order thrown).
 */
export const RECORD_READS = 32;

/** Every record of a fan-out stage, in key order. */
export async function readItemRecords<T>(
  store: Store,
  buildId: string,
  stage: StageName,
): Promise<StageRecord<T>[]> {
  const prefix = `${buildKeys(buildId).stage(stage)}`.replace(/\.json$/, '/');
  const objects = await store.list(prefix);
  return mapAll(objects, RECORD_READS, (o) => getJson<StageRecord<T>>(store, o.key));
}

/**
 * The fetched packages of a build, in listing order: what build-index needs after a Map
 * whose output was dropped to keep the execution state small. Fails when a listed package
 * has no successful fetch record (the Map did not finish for it).
 */
export async function readFetchedPackages(
  store: Store,
  buildId: string,
): Promise<FetchedPackage[]> {
  const listing = await readStageRecord<ListPackagesResult>(store, buildId, 'list-packages');
  if (!listing?.result)
    throw new StoreNotFoundError(
      `reading the package list of build ${buildId}: list-packages has not succeeded`,
    );
  return mapAll(listing.result.packages, RECORD_READS, async (p) => {
    const rec = await readStageRecord<FetchedPackage>(store, buildId, 'fetch-package', p.name);
    if (!rec?.result)
      throw new StoreNotFoundError(
        `reading the fetched package ${p.name} of build ${buildId}: fetch-package has not succeeded`,
      );
    return rec.result;
  });
}

/** The record item of the bundle at `index` of a build's list: zero-padded, so key order is list order. */
export function bundleItemName(index: number): string {
  return String(index).padStart(5, '0');
}

/**
 * The pulled bundles of a pipeline build, in list order, and those left out (each with its
 * reason): what build-index needs after the bundle Map, whose output was dropped. Fails when a
 * listed bundle has no fetch-bundle record with a result (the Map did not finish for it).
 */
export async function readFetchedBundles(
  store: Store,
  buildId: string,
): Promise<Required<Pick<BuildIndexRequest, 'bundles' | 'unpulled'>>> {
  const listing = await readStageRecord<ListBundlesResult>(store, buildId, 'list-bundles');
  if (!listing?.result)
    throw new StoreNotFoundError(
      `reading the bundle list of build ${buildId}: list-bundles has not succeeded`,
    );
  const indexes = Array.from({ length: listing.result.count }, (_, i) => i);
  const results = await mapAll(indexes, RECORD_READS, async (i) => {
    const rec = await readStageRecord<FetchBundleResult>(
      store,
      buildId,
      'fetch-bundle',
      bundleItemName(i),
    );
    if (!rec?.result)
      throw new StoreNotFoundError(
        `reading the fetched bundle ${i} of build ${buildId}: fetch-bundle has not succeeded`,
      );
    return rec.result;
  });
  const out: Required<Pick<BuildIndexRequest, 'bundles' | 'unpulled'>> = {
    bundles: [],
    unpulled: [],
  };
  for (const r of results) {
    if (r.bundle) out.bundles.push(r.bundle);
    else
      out.unpulled.push({
        index: r.index,
        ref: r.ref,
        error: r.error ?? { name: 'Error', message: 'not pulled' },
      });
  }
  return out;
}
