// The report stage: rebuilds the story of one build from the store alone (request.json, the
// per-stage records of stage-results.ts, warnings.json) and writes builds/<id>/report.json
// (schema in docs/REPORT.md) and report.md, whether the build succeeded or failed. It then
// POSTs the JSON to an optional webhook, signed with HMAC-SHA256, retrying transient
// failures with lib/http's one policy (Retry-After included); a webhook that stays down is
// recorded in the result, never fails the build.
// It is the execution's last stage, so it also removes what killed assemble attempts left
// under builds/<id>/uploads/ (a finished attempt moves or deletes its own object); the
// bucket's lifecycle rule expires anything a still-running zombie attempt writes later.
import { createHmac } from 'node:crypto';
import type { BundleOutcome } from '../catalog/load-manifest-dir.js';
import { describeError } from '../errors.js';
import { isTemporaryNetworkError, isTemporaryStatus } from '../http/classify.js';
import {
  parseRetryAfter,
  type RetryOptions,
  retryPolicy,
  retryVerdict,
  withRetry,
} from '../http/retry.js';
import { DEFAULT_INDEX_FORMAT, type IndexFormat } from '../index/catalog-formats.js';
import { redactText, redactUrl } from '../redact.js';
import { buildKeys } from '../store/keys.js';
import { getJson, putJson, type Store, StoreNotFoundError } from '../store/store.js';
import {
  type BuildChanges,
  changesSince,
  previousBuildOf,
  recordSuccess,
} from './build-changes.js';
import { readItemRecords, readStageRecord, type StageRecord } from './stage-results.js';
import type {
  AssembleImageResult,
  BlobCounters,
  BuildIndexResult,
  BuildRequest,
  CatalogFileRef,
  FetchedPackage,
  IndexCounts,
  ListPackagesResult,
  PlatformImage,
  PreflightResult,
  PushImageResult,
  ReportRequest,
  ReportResult,
  StageDeps,
  StageName,
} from './types.js';
import { snapshotOf, writeSnapshot } from './upstream-snapshot.js';

export const REPORT_SCHEMA_VERSION = 1;
export const SIGNATURE_HEADER = 'x-catalog-build-signature-256';

export interface BuildReport {
  schemaVersion: number;
  buildId: string;
  outcome: 'succeeded' | 'failed';
  failure: { stage: string; name: string; message: string } | null;
  /** The request as stored: secrets appear by name only; URLs lose credentials. */
  request: BuildRequest | null;
  generatedAt: string;
  packages: Array<{
    name: string;
    release: string;
    digest: string;
    size: number;
    downloaded: boolean;
    /** How the blob was obtained: downloaded, already in the store, failed, or never tried. */
    fetch: 'downloaded' | 'cached' | 'failed' | 'not-fetched';
    /** The fetch error, when fetch is failed. */
    error?: { name: string; message: string };
    warnings: string[];
  }>;
  counts: {
    packages: number;
    downloaded: number;
    cached: number;
    bundles: number;
    warnings: number;
  };
  warnings: string[];
  /** Bundle-format builds: what became of each bundle folder or image, in input order. */
  bundles?: BundleOutcome[];
  index: {
    /** The index format built (sqlite-v7, sqlite, fbc). */
    format: IndexFormat;
    /** The database (SQLite formats; '' and 0 otherwise). */
    key: string;
    digest: string;
    size: number;
    /** Rows per table (SQLite) or objects per schema (FBC). */
    counts: IndexCounts;
    /** How many files the catalog has, their bytes, and the store key of their list. */
    fileCount: number;
    fileBytes: number;
    filesKey: string;
  } | null;
  image: { digest: string; mediaType: string; platforms: PlatformImage[] } | null;
  push: { ref: string; digest: string; blobs: BlobCounters } | null;
  bytes: { uploaded: number; mounted: number; skipped: number };
  stages: Array<{
    stage: StageName;
    outcome: 'succeeded' | 'failed';
    runs: number;
    startedAt: string;
    finishedAt: string;
    durationMs: number;
    error?: { name: string; message: string };
  }>;
  /** The previous successful build of the same target, compared with (null: none). */
  previousBuildId: string | null;
  /** What changed since it (docs/DIFF.md's diff plus marked Mermaid graphs); null when not compared. */
  changes: BuildChanges | null;
  /** One line for people and webhooks: "+3 bundles, 1 head moved, 0 paths broken", "no changes", … */
  changeSummary: string;
}

export interface ReportDeps extends StageDeps {
  /** Reads the webhook's HMAC key by the name the request gives (Secrets Manager, env). */
  resolveSecret?: (name: string) => Promise<string>;
  /** For tests: the pause between webhook attempts. */
  sleep?: (ms: number) => Promise<void>;
}

export interface ReportStageResult extends ReportResult {
  webhook?: { url: string; delivered: boolean; status?: number; attempts: number; error?: string };
}

const STAGE_ORDER: StageName[] = [
  'preflight',
  'list-packages',
  'fetch-package',
  'list-bundles',
  'fetch-bundle',
  'build-index',
  'assemble-image',
  'push-image',
];
/** 4 attempts, 0.5 s then ×2: a receiver that is down for longer is recorded, not awaited. */
const WEBHOOK_RETRY: RetryOptions = { retries: 3, baseDelayMs: 500, factor: 2, maxDelayMs: 10_000 };
/** A receiver has this long to answer each attempt, headers and body alike. */
const WEBHOOK_TIMEOUT_MS = 10_000;

export async function report(
  requested: ReportRequest,
  deps: ReportDeps,
): Promise<ReportStageResult> {
  const { store } = deps;
  const keys = buildKeys(requested.buildId);
  const now = deps.now ?? (() => new Date());
  // The webhook's key is read before anything is written: a key that cannot be read fails
  // this stage and so the execution, and report.md must say so instead of "succeeded".
  // (Preflight reads it up front, so this is the key vanishing during the build.)
  let request = requested;
  const stored = await optionalJson<BuildRequest>(store, keys.request);
  const webhook = request.webhook ?? stored?.webhook;
  let hmacKey: string | undefined;
  let keyError: unknown;
  if (webhook?.hmacSecret && deps.resolveSecret) {
    try {
      hmacKey = await deps.resolveSecret(webhook.hmacSecret);
    } catch (err) {
      keyError = err;
      // A build that failed already keeps its own failure; a successful one now failed here.
      if (request.outcome === 'succeeded')
        request = {
          ...request,
          outcome: 'failed',
          failure: { stage: 'report', ...describeError(err) },
        };
    }
  }
  const { report: built, listing } = await gatherReport(store, request, stored, now());
  const compared = built.outcome === 'succeeded' && stored && built.index;
  if (compared) await compareWithPrevious(store, built, stored, deps);
  await putJson(store, keys.reportJson, built);
  await store.put(keys.reportMd, redactText(renderReportMarkdown(built)), {
    contentType: 'text/markdown; charset=utf-8',
  });
  // The upstream watcher compares against the last build that succeeded.
  if (built.outcome === 'succeeded' && stored?.appRegistry && listing) {
    await writeSnapshot(store, snapshotOf(stored.appRegistry, listing.packages, request.buildId));
  }
  // Only after the report is stored: a report that failed to write leaves the pointer as it was.
  if (compared) await recordSuccess(store, request.buildId, stored);
  await sweepLayerUploads(store, keys.layerUploads, deps);
  deps.log.info('build report written', {
    buildId: request.buildId,
    outcome: built.outcome,
    key: keys.reportJson,
  });

  const result: ReportStageResult = {
    buildId: request.buildId,
    outcome: built.outcome,
    reportKey: keys.reportJson,
    reportMdKey: keys.reportMd,
  };
  if (keyError) throw keyError;
  // The stored request, not the report's copy: that one has its URL redacted.
  if (webhook) result.webhook = await postWebhook(webhook.url, built, hmacKey, deps);
  return result;
}

/** Deletes layer uploads no attempt finished; a store that refuses is logged, never fatal. */
async function sweepLayerUploads(store: Store, prefix: string, deps: ReportDeps): Promise<void> {
  try {
    const left = await store.list(prefix);
    for (const object of left) await store.delete(object.key);
    if (left.length > 0)
      deps.log.info('removed unfinished layer uploads', { prefix, count: left.length });
  } catch (err) {
    const { name, message } = describeError(err);
    deps.log.warn('removing unfinished layer uploads failed', { prefix, name, message });
  }
}

/** Fills `previousBuildId`, `changes` and `changeSummary`; a diff that fails is logged, never fatal. */
async function compareWithPrevious(
  store: Store,
  built: BuildReport,
  stored: BuildRequest,
  deps: ReportDeps,
): Promise<void> {
  const previous = await previousBuildOf(store, built.buildId, stored);
  if (!previous) {
    built.changeSummary = 'first successful build of this target';
    return;
  }
  built.previousBuildId = previous;
  try {
    built.changes = (await changesSince(store, previous, built.buildId)) ?? null;
    built.changeSummary = built.changes
      ? built.changes.summaryText
      : `not compared: build ${previous} has no index`;
  } catch (err) {
    const { name, message } = describeError(err);
    deps.log.warn('comparing with the previous build failed', { previous, name, message });
    built.changeSummary = `not compared with build ${previous}: ${message}`;
  }
}

async function optionalJson<T>(store: Store, key: string): Promise<T | undefined> {
  try {
    return await getJson<T>(store, key);
  } catch (err) {
    if (err instanceof StoreNotFoundError) return undefined;
    throw err;
  }
}

/**
 * warnings.json as build-index writes it ({problems: [{subject, message}], decoding: [text]}),
 * or a plain list of texts/objects; one line per warning, naming what it concerns.
 */
export function warningTexts(value: unknown): string[] {
  const v = value as { problems?: unknown; decoding?: unknown } | undefined;
  const list: unknown[] = Array.isArray(value)
    ? value
    : [
        ...(Array.isArray(v?.problems) ? v.problems : []),
        ...(Array.isArray(v?.decoding) ? v.decoding : []),
      ];
  return list.map((w) => {
    if (typeof w === 'string') return w;
    const o = w as { message?: unknown; subject?: unknown; package?: unknown };
    const subject =
      typeof o?.subject === 'string'
        ? o.subject
        : typeof o?.package === 'string'
          ? o.package
          : undefined;
    if (typeof o?.message !== 'string') return JSON.stringify(w);
    return subject && !o.message.includes(subject) ? `${subject}: ${o.message}` : o.message;
  });
}

function sanitizeRequest(request: BuildRequest | undefined): BuildRequest | null {
  if (!request) return null;
  const copy: BuildRequest = structuredClone(request);
  if (copy.appRegistry) copy.appRegistry.endpoint = redactUrl(copy.appRegistry.endpoint);
  if (copy.webhook) copy.webhook.url = redactUrl(copy.webhook.url);
  return copy;
}

/** The report from the stage records and the stored request (unredacted), plus the listing. */
export async function gatherReport(
  store: Store,
  request: ReportRequest,
  stored: BuildRequest | undefined,
  generatedAt: Date,
): Promise<{ report: BuildReport; listing?: ListPackagesResult }> {
  const [checked, listing, fetches, bundleListing, bundleFetches, index, image, push] =
    await Promise.all([
      readStageRecord<PreflightResult>(store, request.buildId, 'preflight'),
      readStageRecord<ListPackagesResult>(store, request.buildId, 'list-packages'),
      readItemRecords<FetchedPackage>(store, request.buildId, 'fetch-package'),
      readStageRecord(store, request.buildId, 'list-bundles'),
      readItemRecords(store, request.buildId, 'fetch-bundle'),
      readStageRecord<BuildIndexResult>(store, request.buildId, 'build-index'),
      readStageRecord<AssembleImageResult>(store, request.buildId, 'assemble-image'),
      readStageRecord<PushImageResult>(store, request.buildId, 'push-image'),
    ]);
  const indexResult = index?.result;
  const warningsJson = indexResult
    ? await optionalJson<unknown>(store, indexResult.warningsKey)
    : undefined;
  const warnings = [
    ...(listing?.result?.warnings ?? []),
    ...(indexResult ? warningTexts(warningsJson) : []),
  ];
  const bundleList = (warningsJson as { bundles?: unknown } | undefined)?.bundles;
  const bundles = Array.isArray(bundleList) ? (bundleList as BundleOutcome[]) : [];
  const failedFetches = new Map(
    fetches
      .filter((r) => r.outcome === 'failed' && r.item !== undefined)
      .map((r) => [r.item!, r.error]),
  );

  // Packages in listing order; a package whose fetch failed is reported without a digest.
  const fetched = new Map(fetches.filter((r) => r.result).map((r) => [r.result!.name, r.result!]));
  const listed = new Map(listing?.result?.packages.map((p) => [p.name, p]));
  const names = listing?.result ? [...listed.keys()] : [...fetched.keys()];
  const packages = names.map((name) => {
    const f = fetched.get(name);
    const ref = listed.get(name);
    return {
      name,
      release: f?.release ?? ref?.release ?? '',
      digest: f?.digest ?? (ref?.digest ? `sha256:${ref.digest.replace(/^sha256:/, '')}` : ''),
      size: f?.size ?? 0,
      downloaded: f?.downloaded ?? false,
      fetch: f
        ? f.downloaded
          ? ('downloaded' as const)
          : ('cached' as const)
        : failedFetches.has(name)
          ? ('failed' as const)
          : ('not-fetched' as const),
      ...(!f && failedFetches.get(name) ? { error: failedFetches.get(name)! } : {}),
      warnings: f?.warnings ?? [],
    };
  });

  const stageRecords: Array<[StageName, StageRecord[]]> = [
    ['preflight', checked ? [checked] : []],
    ['list-packages', listing ? [listing] : []],
    ['fetch-package', fetches],
    ['list-bundles', bundleListing ? [bundleListing] : []],
    ['fetch-bundle', bundleFetches],
    ['build-index', index ? [index] : []],
    ['assemble-image', image ? [image] : []],
    ['push-image', push ? [push] : []],
  ];
  const stages = stageRecords
    .filter(([, recs]) => recs.length > 0)
    .map(([stage, recs]) => {
      const startedAt = recs.map((r) => r.startedAt).sort()[0]!;
      const finishedAt = recs
        .map((r) => r.finishedAt)
        .sort()
        .at(-1)!;
      const failed = recs.find((r) => r.outcome === 'failed');
      return {
        stage,
        outcome: failed ? ('failed' as const) : ('succeeded' as const),
        runs: recs.length,
        startedAt,
        finishedAt,
        durationMs: Date.parse(finishedAt) - Date.parse(startedAt),
        ...(failed?.error ? { error: failed.error } : {}),
      };
    })
    .sort((a, b) => STAGE_ORDER.indexOf(a.stage) - STAGE_ORDER.indexOf(b.stage));

  const blobs = push?.result?.blobs;
  const outcome = request.outcome;
  const report: BuildReport = {
    schemaVersion: REPORT_SCHEMA_VERSION,
    buildId: request.buildId,
    outcome,
    failure: outcome === 'failed' ? (request.failure ?? inferFailure(stages)) : null,
    request: sanitizeRequest(stored),
    generatedAt: generatedAt.toISOString(),
    packages,
    counts: {
      packages: packages.length,
      downloaded: packages.filter((p) => p.downloaded).length,
      cached: packages.filter((p) => p.fetch === 'cached').length,
      // Records written before index formats existed have no totals.
      bundles: indexResult?.totals?.bundles ?? indexResult?.counts.operatorbundle ?? 0,
      warnings: warnings.length,
    },
    warnings,
    ...(bundles.length > 0 ? { bundles } : {}),
    index: indexResult
      ? {
          format: indexResult.indexFormat ?? DEFAULT_INDEX_FORMAT,
          key: indexResult.dbKey,
          digest: indexResult.dbDigest,
          size: indexResult.dbSize,
          counts: indexResult.counts,
          ...indexFiles(indexResult),
        }
      : null,
    image: image?.result
      ? {
          digest: image.result.digest,
          mediaType: image.result.mediaType,
          platforms: image.result.platforms,
        }
      : null,
    push: push?.result
      ? { ref: push.result.ref, digest: push.result.digest, blobs: push.result.blobs }
      : null,
    bytes: {
      uploaded: blobs?.bytesUploaded ?? 0,
      mounted: blobs?.bytesMounted ?? 0,
      skipped: blobs?.bytesPresent ?? 0,
    },
    stages,
    previousBuildId: null,
    changes: null,
    changeSummary: outcome === 'failed' ? 'build failed' : 'not compared',
  };
  return {
    report,
    ...(listing?.result ? { listing: listing.result } : {}),
  };
}

/**
 * The catalog's files as the report gives them: count, bytes and the key of their list.
 * Records written before the list moved to the store carried the files themselves.
 */
function indexFiles(
  r: BuildIndexResult & { files?: CatalogFileRef[] },
): Pick<NonNullable<BuildReport['index']>, 'fileCount' | 'fileBytes' | 'filesKey'> {
  if (r.filesKey !== undefined)
    return { fileCount: r.fileCount, fileBytes: r.fileBytes, filesKey: r.filesKey };
  const files = r.files ?? [];
  return {
    fileCount: files.length,
    fileBytes: files.reduce((n, f) => n + f.size, 0),
    filesKey: '',
  };
}

/** When the caller did not say which stage failed, the last failed record tells. */
function inferFailure(stages: BuildReport['stages']): BuildReport['failure'] {
  const failed = stages.filter((s) => s.outcome === 'failed').at(-1);
  if (!failed)
    return {
      stage: 'unknown',
      name: 'Error',
      message: 'the build failed without a recorded error',
    };
  return {
    stage: failed.stage,
    name: failed.error?.name ?? 'Error',
    message: failed.error?.message ?? '',
  };
}

/** The report for people: what was built, where it went, what to look at. */
export function renderReportMarkdown(r: BuildReport): string {
  const lines: string[] = [];
  lines.push(`# Catalog build ${r.buildId}: ${r.outcome}`, '');
  if (r.failure)
    lines.push(`**Failed in ${r.failure.stage}**: \`${r.failure.name}\` ${r.failure.message}`, '');
  if (r.request?.appRegistry)
    lines.push(
      `- Source: App Registry ${r.request.appRegistry.endpoint} org \`${r.request.appRegistry.org}\``,
    );
  if (r.request?.manifestDir) lines.push(`- Source: manifests in \`${r.request.manifestDir}\``);
  if (r.request?.from) lines.push(`- Base image: \`${r.request.from}\``);
  lines.push(
    `- Packages: ${r.counts.packages} (${r.counts.downloaded} downloaded, ${r.counts.cached} already in the store); bundles: ${r.counts.bundles}; warnings: ${r.counts.warnings}`,
  );
  if (r.index) {
    const where = r.index.key
      ? `\`${r.index.key}\` ${r.index.digest} (${r.index.size} bytes)`
      : `${r.index.fileCount} files (${r.index.fileBytes} bytes, listed in \`${r.index.filesKey}\`)`;
    lines.push(`- Index (${r.index.format}): ${where}`);
    const counts = Object.entries(r.index.counts).map(([k, n]) => `${k} ${n}`);
    if (counts.length > 0) lines.push(`  - ${counts.join(', ')}`);
  }
  if (r.push) {
    lines.push(`- Pushed ${r.push.digest} to \`${r.push.ref}\``);
    lines.push(
      `- Blobs: ${r.push.blobs.uploaded} uploaded (${r.bytes.uploaded} B), ${r.push.blobs.mounted} mounted (${r.bytes.mounted} B), ${r.push.blobs.present} already present (${r.bytes.skipped} B)`,
    );
  }
  for (const p of r.image?.platforms ?? [])
    lines.push(`  - ${p.platform}: manifest ${p.manifestDigest}`);
  lines.push(`- Changes: ${r.changeSummary}`);
  lines.push('');
  lines.push(...renderChangesMarkdown(r));
  if (r.warnings.length > 0) {
    lines.push('## Warnings', '');
    for (const w of r.warnings) lines.push(`- ${w.replace(/\n/g, ' ')}`);
    lines.push('');
  }
  if (r.bundles && r.bundles.length > 0) {
    const count = (o: string) => r.bundles!.filter((b) => b.outcome === o).length;
    lines.push(
      '## Bundles',
      '',
      `${count('loaded')} loaded, ${count('not in a channel')} in no channel, ${count('refused')} refused.`,
      '',
      '| source | bundle | package | outcome |',
      '| --- | --- | --- | --- |',
    );
    for (const b of r.bundles) {
      const what =
        b.outcome === 'loaded'
          ? `loaded (${(b.channels ?? []).join(', ')})`
          : `${b.outcome}${b.message ? `: ${b.message.replace(/\n/g, ' ').replace(/\|/g, '\\|')}` : ''}`;
      lines.push(`| ${b.source} | ${b.name ?? '—'} | ${b.package ?? '—'} | ${what} |`);
    }
    lines.push('');
  }
  if (r.packages.length > 0) {
    lines.push(
      '## Packages',
      '',
      '| package | release | digest | fetched |',
      '| --- | --- | --- | --- |',
    );
    for (const p of r.packages)
      lines.push(
        `| ${p.name} | ${p.release} | ${p.digest ? p.digest.slice(0, 19) : '—'} | ${p.fetch === 'failed' ? `**failed** (${p.error?.name ?? 'error'})` : p.fetch === 'not-fetched' ? '—' : p.fetch} |`,
      );
    lines.push('');
  }
  lines.push(
    '## Stages',
    '',
    '| stage | outcome | runs | duration (ms) |',
    '| --- | --- | --- | --- |',
  );
  for (const s of r.stages)
    lines.push(
      `| ${s.stage} | ${s.outcome}${s.error ? ` (${s.error.name})` : ''} | ${s.runs} | ${s.durationMs} |`,
    );
  lines.push('');
  return lines.join('\n');
}

/** The diff with the previous build: a summary table, a row per changed package, its graph. */
export function renderChangesMarkdown(r: BuildReport): string[] {
  const c = r.changes;
  if (!c) return [];
  const lines = [`## Changes since build ${c.previousBuildId}`, ''];
  if (c.empty)
    return [...lines, 'No changes: the catalog is the same as in the previous build.', ''];
  const s = c.summary;
  lines.push(
    '| packages added | packages removed | default channels changed | heads moved | bundles added | bundles removed | edges added | edges removed | paths broken |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    `| ${s.packagesAdded} | ${s.packagesRemoved} | ${s.defaultChannelsChanged} | ${s.headsMoved} | ${s.bundlesAdded} | ${s.bundlesRemoved} | ${s.edgesAdded} | ${s.edgesRemoved} | ${s.pathsBroken} |`,
    '',
    '| package | change | details |',
    '| --- | --- | --- |',
  );
  const cell = (t: string) => t.replace(/\|/g, '\\|');
  for (const p of c.packages) {
    const details: string[] = [];
    if (p.defaultChannel)
      details.push(`default channel ${p.defaultChannel.old} → ${p.defaultChannel.new}`);
    for (const ch of p.channelsAdded) details.push(`+channel ${ch}`);
    for (const ch of p.channelsRemoved) details.push(`−channel ${ch}`);
    for (const h of p.headsMoved)
      details.push(`head of ${h.channel}: ${h.old ?? '—'} → ${h.new ?? '—'}`);
    if (p.bundlesAdded.length) details.push(`+${p.bundlesAdded.join(', +')}`);
    if (p.bundlesRemoved.length) details.push(`−${p.bundlesRemoved.join(', −')}`);
    if (p.edgesAdded.length || p.edgesRemoved.length)
      details.push(`edges +${p.edgesAdded.length}/−${p.edgesRemoved.length}`);
    for (const b of p.pathsBroken)
      details.push(`**path broken** in ${b.channel}: ${b.bundle} cannot reach ${b.newHead}`);
    lines.push(`| ${cell(p.name)} | ${p.status} | ${cell(details.join('<br>'))} |`);
  }
  lines.push('');
  for (const g of c.graphs)
    lines.push(`### ${g.package}`, '', '```mermaid', g.mermaid.trimEnd(), '```', '');
  return lines;
}

/** `sha256=<hex>` of the body under the key, as sent in SIGNATURE_HEADER. */
export function signWebhookBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** What one webhook attempt learned, carried through the retry loop. */
class WebhookAttemptError extends Error {
  constructor(
    readonly note: { status?: number; error: string },
    readonly temporary: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(note.error);
  }
}

async function postWebhook(
  url: string,
  body: BuildReport,
  hmacKey: string | undefined,
  deps: ReportDeps,
): Promise<NonNullable<ReportStageResult['webhook']>> {
  const policy = retryPolicy({ ...WEBHOOK_RETRY, ...(deps.sleep ? { sleep: deps.sleep } : {}) });
  // Loaded here, not with the module: the HTTP client (undici) is ~20 MB of a build's resident
  // memory, and only builds with a webhook need it (docs/BENCHMARKS.md, "Scale").
  const { send } = await import('../http/send.js');
  const json = JSON.stringify(body);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-catalog-build-id': body.buildId,
  };
  if (hmacKey) headers[SIGNATURE_HEADER] = signWebhookBody(json, hmacKey);
  const shown = redactUrl(url);
  let attempts = 0;
  try {
    const status = await withRetry(
      policy,
      async () => {
        attempts++;
        let res: Awaited<ReturnType<typeof import('../http/send.js').send>>;
        try {
          res = await send({
            url,
            method: 'POST',
            headers,
            body: json,
            limits: { timeouts: { headersMs: WEBHOOK_TIMEOUT_MS, bodyMs: WEBHOOK_TIMEOUT_MS } },
          });
          await res.body.dump();
        } catch (err) {
          throw new WebhookAttemptError(
            { error: describeError(err).message },
            isTemporaryNetworkError(err),
          );
        }
        if (res.status >= 200 && res.status < 300) return res.status;
        // Only throttling and server errors may pass on retry; a 4xx is the receiver's answer.
        throw new WebhookAttemptError(
          { status: res.status, error: `HTTP ${res.status}` },
          isTemporaryStatus(res.status),
          parseRetryAfter(res.headers['retry-after'], policy.now()),
        );
      },
      (err) => retryVerdict(err instanceof WebhookAttemptError && err.temporary, err),
    );
    return { url: shown, delivered: true, status, attempts };
  } catch (err) {
    const last =
      err instanceof WebhookAttemptError ? err.note : { error: describeError(err).message };
    deps.log.warn('posting build report to webhook failed', { url: shown, attempts, ...last });
    return { url: shown, delivered: false, attempts, ...last };
  }
}
