// The one build request schema: the type (lib/stages/types.ts `BuildRequest`) and its
// validation, here together, used by every door a build comes in — the CLI (after it has
// turned flags into fields), `POST /builds`, the watcher's targets, `catalog-build pipeline
// --request`, and the stage handlers re-reading fields from an event — so a value is refused
// with the same words everywhere. Hand-written rather than a schema library (zod, Powertools'
// parser): the shape is small, the messages are part of the interface (tests and users match
// on them), and a field is one entry of FIELDS below — its check, and nothing else to edit.
// Secrets travel by *name* only; a field that looks like an inline secret is refused, so a
// token can never reach the execution state, the store or a log line.
import { randomBytes } from 'node:crypto';
import { UsageError } from '../errors.js';
import { parseDestinationLocation, parseSourceLocation } from '../image/location.js';
import { parseReference } from '../image/reference.js';
import { INDEX_FORMATS, isIndexFormat } from '../index/catalog-formats.js';
import { redactUrl } from '../redact.js';
import { buildKeys } from '../store/keys.js';
import { putJson, type Store } from '../store/store.js';
import type { BuildRequest, DecodeLimitsRequest, TimeoutsRequest } from './types.js';

export class InvalidBuildRequestError extends UsageError {
  override name = 'InvalidBuildRequestError';
}

const SECRET_NAME = /^[A-Za-z0-9/_+=.@:-]{1,512}$/;
const SECRET_RULE =
  'a secret is named (up to 512 of letters, digits and /_+=.@:-), never given inline';
const NAME_RULE = "letters, digits, '.', '_' and '-', starting with a letter or digit";
/** Bundles of one build: the community catalog has ~7,000; room for several such catalogs. */
const MAX_BUNDLES = 50_000;
/** Requests in flight per registry: 64 is already more than any registry welcomes. */
const MAX_PER_REGISTRY = 64;

/** A timeout may be raised to an hour (a slow link), never switched off. */
const MAX_TIMEOUT_MS = 3_600_000;
/** Manifests and configs are read whole: never more than a whole blob may be. */
const MAX_MANIFEST_BYTES = 256 * 1024 * 1024;

/**
 * Where a value sits and how messages call it: `path` is its JSON field path
 * (`appRegistry.org`), `label` what the door that received it calls it — the path itself for
 * the API, the flag for the CLI (`--appregistry-org`), from `names`.
 */
interface Field {
  path: string;
  label: string;
  names: FieldNames;
}

function field(path: string, names: FieldNames): Field {
  return { path, label: (names as Record<string, string | undefined>)[path] ?? path, names };
}

/** A field's check: the clean value, or undefined after adding its problems. */
type Check<T> = (value: unknown, at: Field, problems: string[]) => T | undefined;

function isBundleRef(r: unknown): boolean {
  if (typeof r !== 'string' || r === '') return false;
  try {
    parseReference(r);
    return true;
  } catch {
    return false;
  }
}

/** A string; with `re`, one that matches it (`rule` says what a valid value looks like). */
const text =
  (re?: RegExp, rule?: string): Check<string> =>
  (v, at, problems) => {
    if (typeof v !== 'string' || v.length === 0)
      problems.push(`${at.label} must be a non-empty string`);
    else if (re && !re.test(v))
      problems.push(`${at.label} ${JSON.stringify(v)} is not valid${rule ? `: ${rule}` : ''}`);
    else return v;
    return undefined;
  };

const httpUrl: Check<string> = (v, at, problems) => {
  const s = text()(v, at, problems);
  if (s === undefined) return undefined;
  try {
    const u = new URL(s);
    if (u.protocol !== 'http:' && u.protocol !== 'https:')
      problems.push(`${at.label} must be an http(s) URL, not ${u.protocol}`);
    if (u.username || u.password)
      problems.push(`${at.label} must not carry credentials (${redactUrl(s)})`);
  } catch {
    problems.push(`${at.label} ${JSON.stringify(redactUrl(s))} is not a URL`);
  }
  return s;
};

const integer =
  (min: number, max: number, words: string): Check<number> =>
  (v, at, problems) => {
    if (Number.isInteger(v) && (v as number) >= min && (v as number) <= max) return v as number;
    problems.push(`${at.label} must be ${words}`);
    return undefined;
  };

/**
 * An object with known keys, each checked; unknown keys are refused by their full path.
 * A member is labelled by its own path (`appRegistry.org`), or as `names` says (the CLI's
 * `--appregistry-org`), never as its parent's label plus a key. `build` assembles the clean
 * value from the checked parts (undefined when incomplete).
 */
function object<T>(
  fields: Record<string, Check<unknown>>,
  build: (parts: Record<string, unknown>) => T | undefined,
): Check<T> {
  return (v, at, problems) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      problems.push(`${at.label} must be an object`);
      return undefined;
    }
    const parts: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(v)) {
      const check = fields[key];
      if (!check) problems.push(`unknown field "${at.path}.${key}"`);
      else if (value !== undefined)
        parts[key] = check(value, field(`${at.path}.${key}`, at.names), problems);
    }
    return build(parts);
  };
}

/** An object of optional fields: the ones that passed their check, the rest left out. */
function definedParts<T>(parts: Record<string, unknown>): T {
  return Object.fromEntries(Object.entries(parts).filter(([, v]) => v !== undefined)) as T;
}

const bundles: Check<string[]> = (list, at, problems) => {
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_BUNDLES) {
    problems.push(`${at.label} must be a list of 1 to ${MAX_BUNDLES} image references`);
    return undefined;
  }
  const bad = list.filter((r) => !isBundleRef(r));
  if (bad.length === 0) return list as string[];
  problems.push(
    `${at.label}: not image references: ${bad
      .slice(0, 5)
      .map((r) => JSON.stringify(r))
      .join(', ')}${bad.length > 5 ? ` and ${bad.length - 5} more` : ''}`,
  );
  return undefined;
};

const regex: Check<string> = (v, at, problems) => {
  const s = text()(v, at, problems);
  if (s === undefined) return undefined;
  try {
    new RegExp(s);
    return s;
  } catch {
    problems.push(`${at.label} ${JSON.stringify(s)} is not a regular expression`);
    return undefined;
  }
};

const boolean: Check<boolean> = (v, at, problems) => {
  if (typeof v === 'boolean') return v;
  problems.push(`${at.label} must be true or false`);
  return undefined;
};

/** One of a fixed list of words. */
const oneOf =
  <T extends string>(words: readonly T[], is: (v: unknown) => v is T): Check<T> =>
  (v, at, problems) => {
    if (is(v)) return v;
    problems.push(`${at.label} must be one of ${words.join(', ')}`);
    return undefined;
  };

const positive = integer(1, Number.MAX_SAFE_INTEGER, 'a positive integer');
const timeoutMs = integer(1, MAX_TIMEOUT_MS, `a number of ms from 1 to ${MAX_TIMEOUT_MS} (1 h)`);

/**
 * An image location (`--from`/`--to`), parsed now as the image stages will parse it, so an
 * upper-case repository or a digest in --to fails before the first download, not at the push.
 */
const location =
  (parse: (input: string) => unknown): Check<string> =>
  (v, at, problems) => {
    const s = text()(v, at, problems);
    if (s === undefined) return undefined;
    try {
      parse(s);
      return s;
    } catch (err) {
      problems.push(`${at.label}: ${(err as Error).message}`);
      return undefined;
    }
  };

/** The store's own areas, which a bundle prefix may not name (builds/ also expires). */
const STORE_AREAS = ['builds/', 'blobs/', 'upstream/'];

/**
 * A key prefix of the store (S3 key syntax: '/'-separated, no empty, '.' or '..' segment, no
 * leading '/'), outside the store's own areas; a trailing '/' is implied.
 */
const storePrefix: Check<string> = (v, at, problems) => {
  const s = text()(v, at, problems);
  if (s === undefined) return undefined;
  const segments = s.replace(/\/$/, '').split('/');
  const folder = `${segments.join('/')}/`;
  if (s.length > 512 || segments.some((x) => x === '' || x === '.' || x === '..'))
    problems.push(
      `${at.label} ${JSON.stringify(s.slice(0, 80))} is not valid: a key prefix is '/'-separated names, without a leading '/', '.' or '..'`,
    );
  else if (STORE_AREAS.some((a) => folder.startsWith(a)))
    problems.push(`${at.label} must not be in the store's own ${folder.split('/')[0]}/ area`);
  else return folder;
  return undefined;
};

/** Every field of a build request and its check. Adding a field: one entry here (+ the type). */
const FIELDS: { [K in keyof BuildRequest]-?: Check<BuildRequest[K]> } = {
  buildId: text(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, `a build id is ${NAME_RULE}, at most 128`),
  appRegistry: object(
    {
      endpoint: httpUrl,
      org: text(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, `an org is ${NAME_RULE}`),
      authTokenSecret: text(SECRET_NAME, SECRET_RULE),
      maxPackages: positive,
    },
    ({ endpoint, org, authTokenSecret, maxPackages }) =>
      endpoint && org
        ? {
            endpoint: endpoint as string,
            org: org as string,
            ...(authTokenSecret ? { authTokenSecret: authTokenSecret as string } : {}),
            ...(maxPackages ? { maxPackages: maxPackages as number } : {}),
          }
        : undefined,
  ),
  manifestDir: text(),
  bundles,
  bundlePrefix: storePrefix,
  from: location(parseSourceLocation),
  to: location(parseDestinationLocation),
  filterByOs: regex,
  insecure: boolean,
  registryAuthSecret: text(SECRET_NAME, SECRET_RULE),
  maxPerRegistry: integer(1, MAX_PER_REGISTRY, `an integer from 1 to ${MAX_PER_REGISTRY}`),
  sourceDateEpoch: integer(0, Number.MAX_SAFE_INTEGER, 'a non-negative integer'),
  webhook: object(
    { url: httpUrl, hmacSecret: text(SECRET_NAME, SECRET_RULE) },
    ({ url, hmacSecret }) =>
      url
        ? { url: url as string, ...(hmacSecret ? { hmacSecret: hmacSecret as string } : {}) }
        : undefined,
  ),
  decodeLimits: object(
    { maxEntries: positive, maxFileBytes: positive, maxTotalBytes: positive },
    definedParts<DecodeLimitsRequest>,
  ),
  /** sqlite-v7 (the default), sqlite (schema 13), fbc. */
  indexFormat: oneOf(INDEX_FORMATS, isIndexFormat),
  timeouts: object(
    { connectMs: timeoutMs, headersMs: timeoutMs, bodyMs: timeoutMs },
    definedParts<TimeoutsRequest>,
  ),
  maxManifestBytes: integer(
    1,
    MAX_MANIFEST_BYTES,
    `a number of bytes from 1 to ${MAX_MANIFEST_BYTES} (256 MiB, the whole-blob cap)`,
  ),
};

/**
 * How messages name the fields, by JSON path (`appRegistry.org`, `decodeLimits.maxEntries`):
 * the path itself (the API), or the flag that set it (the CLI). A nested field without an
 * entry is called by its path.
 */
export type FieldNames = Partial<Record<keyof BuildRequest | `${string}.${string}`, string>>;

/** A fresh, sortable build id: UTC time plus randomness, valid as a store path segment. */
export function newBuildId(now: Date = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(4).toString('hex')}`;
}

/**
 * Checks the given fields of an untrusted object (absent ones are skipped) and returns their
 * clean values; problems are added to `problems`. The stage handlers use it for the fields
 * of the request an event carries.
 */
export function checkRequestFields<K extends keyof BuildRequest>(
  input: Record<string, unknown>,
  keys: readonly K[],
  problems: string[],
  names: FieldNames = {},
): Pick<BuildRequest, K> {
  const out: Partial<BuildRequest> = {};
  for (const key of keys) {
    if (input[key] === undefined) continue;
    const value = (FIELDS[key] as Check<unknown>)(input[key], field(key, names), problems);
    if (value !== undefined) (out as Record<string, unknown>)[key] = value;
  }
  return out as Pick<BuildRequest, K>;
}

/**
 * Checks an untrusted value as a BuildRequest and returns a clean copy (unknown fields
 * refused, a buildId assigned when missing). Every problem is listed in one error, fields
 * named as `names` says (the CLI names them by flag).
 */
export function validateBuildRequest(
  input: unknown,
  options: {
    now?: Date;
    names?: FieldNames;
    /** The value is an execution input (executionInput): `bundleCount` stands for `bundles`. */
    executionInput?: boolean;
  } = {},
): BuildRequest {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidBuildRequestError('validating build request: not a JSON object');
  }
  const raw = input as Record<string, unknown>;
  const names = options.names ?? {};
  const problems: string[] = [];
  const counted = options.executionInput === true && raw.bundleCount !== undefined;
  if (counted)
    integer(1, MAX_BUNDLES, `an integer from 1 to ${MAX_BUNDLES}`)(
      raw.bundleCount,
      field('bundleCount', names),
      problems,
    );
  for (const key of Object.keys(raw)) {
    if (!(key in FIELDS) && !(counted && key === 'bundleCount'))
      problems.push(
        `unknown field "${key}"${/token|password|secret|auth/i.test(key) ? ' (secrets are passed by name: appRegistry.authTokenSecret, registryAuthSecret, webhook.hmacSecret)' : ''}`,
      );
  }
  const checked = checkRequestFields(
    raw,
    Object.keys(FIELDS) as (keyof BuildRequest)[],
    problems,
    names,
  );
  const out: BuildRequest = { ...checked, buildId: checked.buildId ?? newBuildId(options.now) };

  const name = (k: keyof BuildRequest) => names[k] ?? k;
  // A source that was given but refused has its own problem already: not "one is required".
  const sources = (['appRegistry', 'manifestDir', 'bundles', 'bundlePrefix'] as const).filter(
    (k) => out[k] !== undefined || raw[k] !== undefined || (k === 'bundles' && counted),
  );
  // The CLI has no flag for a store prefix (its --manifest-dir reads folders directly).
  const prefixToo = options.names === undefined || names.bundlePrefix !== undefined;
  if (sources.length === 0)
    problems.push(
      prefixToo
        ? `one of ${name('appRegistry')} {endpoint, org}, ${name('manifestDir')}, ${name('bundles')} or ${name('bundlePrefix')} is required`
        : `one of ${name('appRegistry')} {endpoint, org}, ${name('manifestDir')} or ${name('bundles')} is required`,
    );
  if (sources.length > 1) problems.push(`${sources.map(name).join(' and ')} are exclusive`);
  if (out.to && !out.from)
    problems.push(`${name('to')} needs ${name('from')} (the base image, or "scratch")`);

  if (problems.length > 0) {
    throw new InvalidBuildRequestError(`validating build request: ${problems.join('; ')}`);
  }
  return out;
}

/** Stores the validated request as builds/<id>/request.json (it holds secret names only). */
export async function saveBuildRequest(store: Store, request: BuildRequest): Promise<string> {
  const key = buildKeys(request.buildId).request;
  await putJson(store, key, request);
  return key;
}

/**
 * The state machine's input for a request: the request itself, but a bundle list replaced by
 * its count (`bundleCount`). 50,000 references would not fit the 256 KB execution input, and
 * every state would carry them; the list-bundles stage reads them from the stored request
 * (saveBuildRequest runs first) and fans out over indexes.
 */
export function executionInput(
  request: BuildRequest,
): Omit<BuildRequest, 'bundles'> & { bundleCount?: number } {
  const { bundles, ...rest } = request;
  return bundles ? { ...rest, bundleCount: bundles.length } : rest;
}
