// The build request as it enters the system (POST /builds body, `catalog-build pipeline
// --request`, the watcher): validated here once, by hand (the shape is small and the error
// messages matter more than a schema library), then stored as builds/<id>/request.json.
// Secrets travel by *name* only; a field that looks like an inline secret is refused, so a
// token can never reach the execution state, the store or a log line.
import { randomBytes } from 'node:crypto';
import { UsageError } from '../errors.js';
import { parseReference } from '../image/reference.js';
import { INDEX_FORMATS, type IndexFormat, isIndexFormat } from '../index/catalog-formats.js';
import { redactUrl } from '../redact.js';
import { buildKeys } from '../store/keys.js';
import { putJson, type Store } from '../store/store.js';
import type { BuildRequest, DecodeLimitsRequest } from './types.js';

export class InvalidBuildRequestError extends UsageError {
  override name = 'InvalidBuildRequestError';
}

const TOP_LEVEL = new Set([
  'buildId',
  'appRegistry',
  'manifestDir',
  'bundles',
  'from',
  'to',
  'filterByOs',
  'insecure',
  'registryAuthSecret',
  'maxPerRegistry',
  'sourceDateEpoch',
  'webhook',
  'decodeLimits',
  'indexFormat',
]);
const SECRET_NAME = /^[A-Za-z0-9/_+=.@:-]{1,512}$/;
/** Bundles of one build: the community catalog has ~7,000; room for several such catalogs. */
const MAX_BUNDLES = 50_000;

function isBundleRef(r: unknown): boolean {
  if (typeof r !== 'string' || r === '') return false;
  try {
    parseReference(r);
    return true;
  } catch {
    return false;
  }
}

/** A fresh, sortable build id: UTC time plus randomness, valid as a store path segment. */
export function newBuildId(now: Date = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(4).toString('hex')}`;
}

/**
 * Checks an untrusted value as a BuildRequest and returns a clean copy (unknown fields
 * refused, a buildId assigned when missing). Every problem is listed in one error.
 */
export function validateBuildRequest(input: unknown, options: { now?: Date } = {}): BuildRequest {
  const problems: string[] = [];
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidBuildRequestError('validating build request: not a JSON object');
  }
  const raw = input as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (!TOP_LEVEL.has(key))
      problems.push(
        `unknown field "${key}"${/token|password|secret|auth/i.test(key) ? ' (secrets are passed by name: appRegistry.authTokenSecret, registryAuthSecret, webhook.hmacSecret)' : ''}`,
      );
  }
  const str = (v: unknown, field: string, re?: RegExp): string | undefined => {
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.length === 0)
      problems.push(`${field} must be a non-empty string`);
    else if (re && !re.test(v)) problems.push(`${field} is not valid`);
    else return v;
    return undefined;
  };
  const url = (v: unknown, field: string): string | undefined => {
    const s = str(v, field);
    if (s === undefined) return undefined;
    try {
      const u = new URL(s);
      if (u.protocol !== 'http:' && u.protocol !== 'https:')
        problems.push(`${field} must be an http(s) URL`);
      if (u.username || u.password)
        problems.push(`${field} must not carry credentials (${redactUrl(s)})`);
    } catch {
      problems.push(`${field} is not a URL`);
    }
    return s;
  };
  const out: BuildRequest = { buildId: '' };
  const buildId = str(raw.buildId, 'buildId', /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/);
  out.buildId = buildId ?? newBuildId(options.now);

  if (raw.appRegistry !== undefined) {
    const a = raw.appRegistry as Record<string, unknown>;
    if (typeof a !== 'object' || a === null) problems.push('appRegistry must be an object');
    else {
      for (const key of Object.keys(a)) {
        if (!['endpoint', 'org', 'authTokenSecret'].includes(key))
          problems.push(`unknown field "appRegistry.${key}"`);
      }
      const endpoint = url(a.endpoint, 'appRegistry.endpoint');
      const org = str(a.org, 'appRegistry.org', /^[A-Za-z0-9][A-Za-z0-9._-]*$/);
      const secret = str(a.authTokenSecret, 'appRegistry.authTokenSecret', SECRET_NAME);
      if (endpoint && org)
        out.appRegistry = { endpoint, org, ...(secret ? { authTokenSecret: secret } : {}) };
    }
  }
  const manifestDir = str(raw.manifestDir, 'manifestDir');
  if (manifestDir) out.manifestDir = manifestDir;
  if (raw.bundles !== undefined) {
    const list = raw.bundles;
    if (!Array.isArray(list) || list.length === 0 || list.length > MAX_BUNDLES)
      problems.push(`bundles must be a list of 1 to ${MAX_BUNDLES} image references`);
    else {
      const bad = list.filter((r) => !isBundleRef(r));
      if (bad.length > 0)
        problems.push(
          `bundles: not image references: ${bad
            .slice(0, 5)
            .map((r) => JSON.stringify(r))
            .join(', ')}${bad.length > 5 ? ` and ${bad.length - 5} more` : ''}`,
        );
      else out.bundles = list as string[];
    }
  }
  const sources = [
    out.appRegistry && 'appRegistry',
    manifestDir && 'manifestDir',
    raw.bundles !== undefined && 'bundles',
  ].filter(Boolean);
  if (sources.length === 0 && !problems.some((p) => p.startsWith('appRegistry'))) {
    problems.push('one of appRegistry {endpoint, org}, manifestDir or bundles is required');
  }
  if (sources.length > 1) problems.push(`${sources.join(' and ')} are exclusive`);

  const from = str(raw.from, 'from');
  const to = str(raw.to, 'to');
  if (to && !from) problems.push('to needs from (the base image, or "scratch")');
  if (from) out.from = from;
  if (to) out.to = to;
  const filterByOs = str(raw.filterByOs, 'filterByOs');
  if (filterByOs) {
    try {
      new RegExp(filterByOs);
      out.filterByOs = filterByOs;
    } catch {
      problems.push('filterByOs is not a regular expression');
    }
  }
  if (raw.insecure !== undefined) {
    if (typeof raw.insecure !== 'boolean') problems.push('insecure must be true or false');
    else out.insecure = raw.insecure;
  }
  const regSecret = str(raw.registryAuthSecret, 'registryAuthSecret', SECRET_NAME);
  if (regSecret) out.registryAuthSecret = regSecret;
  if (raw.maxPerRegistry !== undefined) {
    if (
      !Number.isInteger(raw.maxPerRegistry) ||
      (raw.maxPerRegistry as number) < 1 ||
      (raw.maxPerRegistry as number) > 64
    ) {
      problems.push('maxPerRegistry must be an integer from 1 to 64');
    } else out.maxPerRegistry = raw.maxPerRegistry as number;
  }
  if (raw.sourceDateEpoch !== undefined) {
    if (!Number.isInteger(raw.sourceDateEpoch) || (raw.sourceDateEpoch as number) < 0)
      problems.push('sourceDateEpoch must be a non-negative integer');
    else out.sourceDateEpoch = raw.sourceDateEpoch as number;
  }
  if (raw.webhook !== undefined) {
    const w = raw.webhook as Record<string, unknown>;
    if (typeof w !== 'object' || w === null) problems.push('webhook must be an object');
    else {
      for (const key of Object.keys(w)) {
        if (!['url', 'hmacSecret'].includes(key)) problems.push(`unknown field "webhook.${key}"`);
      }
      const wurl = url(w.url, 'webhook.url');
      const hmac = str(w.hmacSecret, 'webhook.hmacSecret', SECRET_NAME);
      if (wurl) out.webhook = { url: wurl, ...(hmac ? { hmacSecret: hmac } : {}) };
    }
  }
  const limits = decodeLimitsOf(raw.decodeLimits, problems);
  if (limits) out.decodeLimits = limits;
  const indexFormat = indexFormatOf(raw.indexFormat, problems);
  if (indexFormat) out.indexFormat = indexFormat;
  if (problems.length > 0) {
    throw new InvalidBuildRequestError(`validating build request: ${problems.join('; ')}`);
  }
  return out;
}

/** `indexFormat`: one of sqlite-v7 (the default), sqlite, fbc. */
export function indexFormatOf(value: unknown, problems: string[]): IndexFormat | undefined {
  if (value === undefined) return undefined;
  if (isIndexFormat(value)) return value;
  problems.push(`indexFormat must be one of ${INDEX_FORMATS.join(', ')}`);
  return undefined;
}

const DECODE_LIMIT_FIELDS = ['maxEntries', 'maxFileBytes', 'maxTotalBytes'] as const;

/** `decodeLimits` {maxEntries, maxFileBytes, maxTotalBytes}: positive integers, each optional. */
export function decodeLimitsOf(
  value: unknown,
  problems: string[],
): DecodeLimitsRequest | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push('decodeLimits must be an object');
    return undefined;
  }
  const out: DecodeLimitsRequest = {};
  for (const [key, v] of Object.entries(value)) {
    if (!(DECODE_LIMIT_FIELDS as readonly string[]).includes(key))
      problems.push(`unknown field "decodeLimits.${key}"`);
    else if (!Number.isSafeInteger(v) || (v as number) < 1)
      problems.push(`decodeLimits.${key} must be a positive integer`);
    else out[key as (typeof DECODE_LIMIT_FIELDS)[number]] = v as number;
  }
  return out;
}

/** Stores the validated request as builds/<id>/request.json (it holds secret names only). */
export async function saveBuildRequest(store: Store, request: BuildRequest): Promise<string> {
  const key = buildKeys(request.buildId).request;
  await putJson(store, key, request);
  return key;
}
