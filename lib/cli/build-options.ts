// The flags of `catalog-build` (the build command): those of `oc adm catalog build` with
// their meanings and defaults (upstream-spec §1), plus ours for automation and the local
// store. Turned into a validated BuildRequest plus the settings only a local run has.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { DEFAULT_INDEX_FORMAT } from '../index/catalog-formats.js';
import { type FieldNames, validateBuildRequest } from '../stages/build-request.js';
import type { BuildRequest } from '../stages/types.js';
import { type FlagSpec, parseFlags } from './flags.js';

export const DEFAULT_APPREGISTRY_ENDPOINT = 'https://quay.io/cnr';
/** Upstream's default since 4.5: only the linux/amd64 image of a multi-arch base. */
export const DEFAULT_FILTER_BY_OS = 'linux/amd64';

export const BUILD_FLAGS: readonly FlagSpec[] = [
  {
    name: 'appregistry-org',
    type: 'string',
    help: 'Organization (Namespace) to pull from an App Registry',
  },
  {
    name: 'appregistry-endpoint',
    type: 'string',
    default: DEFAULT_APPREGISTRY_ENDPOINT,
    help: 'Endpoint for pulling from an App Registry instance',
  },
  {
    name: 'auth-token',
    type: 'string',
    help: 'Auth token for connecting to an App Registry (sent verbatim as the Authorization header)',
  },
  {
    name: 'from',
    type: 'string',
    help: 'The image `REF` to use as a base: a registry reference, oci:DIR[:TAG] or scratch',
  },
  {
    name: 'to',
    type: 'string',
    help: 'The image `REF` to push to: a registry reference, oci:DIR[:TAG] or file://NAME (with --dir)',
  },
  { name: 'to-db', type: 'string', help: 'Local `PATH` to write the database to' },
  {
    name: 'to-fbc',
    type: 'string',
    help: 'Local `DIR` (missing or empty) to write the file-based catalog to, as <package>/catalog.json (with --index-format fbc)',
  },
  {
    name: 'index-format',
    type: 'string',
    default: DEFAULT_INDEX_FORMAT,
    help: 'The catalog to build, `FORMAT`: sqlite-v7 (the SQLite index oc 4.5 built, schema 7), sqlite (the schema-13 SQLite index opm v1.26.5 builds; v1 CRDs accepted) or fbc (a file-based catalog)',
  },
  {
    name: 'manifest-dir',
    type: 'string',
    help: '`DIR` of manifests to build from (without --appregistry-org), or where to unpack downloaded ones',
  },
  {
    name: 'bundles',
    type: 'string',
    help: 'Bundle image `REF[,REF…]` to build from (like opm index add --bundles), pulled without a daemon',
  },
  {
    name: 'bundles-file',
    type: 'string',
    help: 'A `FILE` of bundle image references, one per line (# comments and blank lines ignored)',
  },
  { name: 'dir', type: 'string', help: 'The `DIR` on disk that file:// images are stored in' },
  {
    name: 'from-dir',
    type: 'string',
    help: 'The `DIR` on disk that file:// source images are read from; overrides --dir',
  },
  {
    name: 'registry-config',
    short: 'a',
    type: 'string',
    help: 'Path to your registry credentials `FILE` (docker config.json or containers auth.json)',
  },
  {
    name: 'insecure',
    type: 'boolean',
    default: false,
    help: 'Allow push and pull operations to registries over HTTP and with unverified TLS',
  },
  {
    name: 'skip-verification',
    type: 'boolean',
    default: false,
    help: "Accepted for oc's command lines; digests are always verified (a warning says so)",
  },
  {
    name: 'filter-by-os',
    type: 'string',
    help: 'A regular expression on os/arch[/variant] selecting the images of a multi-arch base (default "linux/amd64")',
  },
  {
    name: 'max-per-registry',
    type: 'number',
    default: 4,
    help: 'Number of concurrent requests allowed per registry',
  },
  {
    name: 'max-packages',
    type: 'number',
    help: 'Refuse an App Registry org that lists more than `N` packages (default 10000)',
  },
  {
    name: 'max-package-entries',
    type: 'string',
    help: 'Refuse an App Registry blob with more tar entries than `N` (default 10000)',
  },
  {
    name: 'max-file-size',
    type: 'string',
    help: 'Refuse a manifest file larger than `SIZE` in a blob, e.g. 64MiB (the default)',
  },
  {
    name: 'max-package-size',
    type: 'string',
    help: 'Refuse a blob whose files add up to more than `SIZE`, e.g. 256MiB (the default)',
  },
  {
    name: 'max-manifest-size',
    type: 'string',
    help: 'Refuse an image manifest or config larger than `SIZE`, e.g. 4MiB (the default)',
  },
  {
    name: 'connect-timeout',
    type: 'string',
    help: 'Give up connecting to a registry or App Registry after `DURATION`, e.g. 10s (the default)',
  },
  {
    name: 'headers-timeout',
    type: 'string',
    help: 'Give up on an answer whose headers take longer than `DURATION`, e.g. 30s (the default)',
  },
  {
    name: 'idle-timeout',
    type: 'string',
    help: 'Give up on a body that stalls for `DURATION`, e.g. 60s (the default)',
  },
  { name: 'digest-file', type: 'string', help: 'Write the pushed digest to `FILE` (automation)' },
  {
    name: 'store',
    type: 'string',
    help: 'Local store `DIR` for blobs and build records (default $XDG_CACHE_HOME/olm-catalog-builder)',
  },
  {
    name: 'build-id',
    type: 'string',
    help: 'Use this `ID` for the build record instead of a generated one',
  },
  {
    name: 'quiet',
    short: 'q',
    type: 'boolean',
    default: false,
    help: 'Print only errors and the result',
  },
  {
    name: 'verbose',
    short: 'v',
    type: 'boolean',
    default: false,
    help: 'Print every step and item',
  },
  { name: 'help', short: 'h', type: 'boolean', default: false, help: 'Show this help' },
];

export interface LocalSettings {
  storeDir: string;
  toDb?: string;
  /** --to-fbc: the directory the file-based catalog is written to. */
  toFbc?: string;
  /** With --appregistry-org: where to unpack the downloaded manifests (oc's --manifest-dir). */
  unpackDir?: string;
  digestFile?: string;
  dir?: string;
  fromDir?: string;
  registryConfig?: string;
  authToken?: string;
  skipVerification: boolean;
  quiet: boolean;
  verbose: boolean;
  help: boolean;
}

export function defaultStoreDir(env: NodeJS.ProcessEnv = process.env): string {
  const cache = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cache, 'olm-catalog-builder');
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  k: 1e3,
  ki: 2 ** 10,
  m: 1e6,
  mi: 2 ** 20,
  g: 1e9,
  gi: 2 ** 30,
};

/** "65536", "64MiB", "64Mi", "10MB" → bytes. */
export function parseSize(flag: string, raw: string): number {
  const m = /^(\d+)\s*([kmg]i?)?b?$/i.exec(raw.trim());
  const unit = SIZE_UNITS[(m?.[2] ?? '').toLowerCase()];
  if (!m || unit === undefined || Number(m[1]) <= 0) {
    throw new UsageError(
      `invalid argument "${raw}" for "--${flag}" flag: not a size (e.g. 65536, 64MiB, 1GB)`,
    );
  }
  return Number(m[1]) * unit;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, '': 1000 };

/** "30s", "500ms", "2m", "45" (seconds) → ms. */
export function parseDuration(flag: string, raw: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m)?$/i.exec(raw.trim());
  const ms = m ? Math.round(Number(m[1]) * DURATION_UNITS[(m[2] ?? '').toLowerCase()]!) : 0;
  if (!m || ms <= 0) {
    throw new UsageError(
      `invalid argument "${raw}" for "--${flag}" flag: not a duration (e.g. 30s, 500ms, 2m)`,
    );
  }
  return ms;
}

function sourceDateEpoch(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env.SOURCE_DATE_EPOCH;
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0)
    throw new UsageError(`SOURCE_DATE_EPOCH must be a whole number of seconds, got "${raw}"`);
  return n;
}

/** --bundles (comma-separated) and --bundles-file (one per line) as one list, in order. */
function bundleRefs(flag: string | undefined, file: string | undefined): string[] | undefined {
  if (flag === undefined && file === undefined) return undefined;
  const refs: string[] = [];
  if (flag !== undefined)
    refs.push(
      ...flag
        .split(',')
        .map((r) => r.trim())
        .filter((r) => r !== ''),
    );
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new UsageError(`reading --bundles-file ${file}: ${(err as Error).message}`);
    }
    for (const line of text.split('\n')) {
      const ref = line.replace(/#.*$/, '').trim();
      if (ref !== '') refs.push(ref);
    }
  }
  if (refs.length === 0) throw new UsageError('--bundles/--bundles-file name no bundle image');
  return refs;
}

/** Parses the build command line into a request and the local-only settings. */
export function parseBuildOptions(
  argv: readonly string[],
  options: { env?: NodeJS.ProcessEnv; buildId: string },
): { request: BuildRequest; local: LocalSettings } {
  const env = options.env ?? process.env;
  const { values: v, args } = parseFlags(argv, BUILD_FLAGS);
  if (args.length > 0)
    throw new UsageError(`unexpected arguments: ${args.join(' ')} (this command takes only flags)`);
  const str = (name: string) =>
    typeof v[name] === 'string' && v[name] !== '' ? (v[name] as string) : undefined;
  const local: LocalSettings = {
    storeDir: str('store') ?? defaultStoreDir(env),
    toDb: str('to-db'),
    toFbc: str('to-fbc'),
    digestFile: str('digest-file'),
    dir: str('dir'),
    fromDir: str('from-dir'),
    registryConfig: str('registry-config'),
    authToken: str('auth-token'),
    skipVerification: v['skip-verification'] === true,
    quiet: v.quiet === true,
    verbose: v.verbose === true,
    help: v.help === true,
  };
  const request: BuildRequest = { buildId: str('build-id') ?? options.buildId };
  const org = str('appregistry-org');
  const manifestDir = str('manifest-dir');
  const bundles = bundleRefs(str('bundles'), str('bundles-file'));
  if (!local.help) {
    if (bundles) {
      if (org || manifestDir)
        throw new UsageError(
          '--bundles/--bundles-file build from bundle images only: drop --appregistry-org and --manifest-dir',
        );
      request.bundles = bundles;
    } else if (org) {
      const endpoint =
        typeof v['appregistry-endpoint'] === 'string' ? v['appregistry-endpoint'] : '';
      if (!endpoint) throw new UsageError('app-registry must be a valid app-registry endpoint');
      request.appRegistry = {
        endpoint,
        org,
        ...(typeof v['max-packages'] === 'number' ? { maxPackages: v['max-packages'] } : {}),
      };
    } else if (manifestDir) {
      request.manifestDir = manifestDir;
    } else {
      throw new UsageError(
        'app-registry org (namespace) must be specified (or --manifest-dir DIR to build from local manifests)',
      );
    }
    if (org && manifestDir) local.unpackDir = manifestDir;
    const to = str('to');
    const from = str('from');
    if (to) {
      if (!from)
        throw new UsageError(
          'unable to resolve base image - use --from to specify a base image (or --from scratch)',
        );
      request.to = to;
    }
    if (from) request.from = from;
    if (to === undefined && from !== undefined && !local.toDb && !local.toFbc) {
      throw new UsageError(
        '--from needs --to: nothing would be pushed (use --to-db or --to-fbc to only write the catalog)',
      );
    }
    request.filterByOs = str('filter-by-os') ?? DEFAULT_FILTER_BY_OS;
    if (v.insecure === true) request.insecure = true;
    request.maxPerRegistry = v['max-per-registry'] as number;
    const limits = {
      ...(str('max-package-entries')
        ? { maxEntries: parseSize('max-package-entries', str('max-package-entries')!) }
        : {}),
      ...(str('max-file-size')
        ? { maxFileBytes: parseSize('max-file-size', str('max-file-size')!) }
        : {}),
      ...(str('max-package-size')
        ? { maxTotalBytes: parseSize('max-package-size', str('max-package-size')!) }
        : {}),
    };
    if (Object.keys(limits).length > 0) request.decodeLimits = limits;
    const timeouts = {
      ...(str('connect-timeout')
        ? { connectMs: parseDuration('connect-timeout', str('connect-timeout')!) }
        : {}),
      ...(str('headers-timeout')
        ? { headersMs: parseDuration('headers-timeout', str('headers-timeout')!) }
        : {}),
      ...(str('idle-timeout')
        ? { bodyMs: parseDuration('idle-timeout', str('idle-timeout')!) }
        : {}),
    };
    if (Object.keys(timeouts).length > 0) request.timeouts = timeouts;
    if (str('max-manifest-size'))
      request.maxManifestBytes = parseSize('max-manifest-size', str('max-manifest-size')!);
    const format = str('index-format') ?? DEFAULT_INDEX_FORMAT;
    if (format !== DEFAULT_INDEX_FORMAT)
      request.indexFormat = format as BuildRequest['indexFormat'];
    // Which flags go with which format (the value itself is checked by the request schema).
    if (local.toFbc && format !== 'fbc')
      throw new UsageError(`--to-fbc needs --index-format fbc (the format is ${format})`);
    if (local.toDb && format === 'fbc')
      throw new UsageError('--to-db writes a database: with --index-format fbc use --to-fbc DIR');
    const epoch = sourceDateEpoch(env);
    if (epoch !== undefined) request.sourceDateEpoch = epoch;
    // Every value is checked by the one request schema, its fields named by their flags;
    // the checks above are oc's own (which flags go together), in oc's words.
    return { request: validateBuildRequest(request, { names: FLAG_NAMES }), local };
  }
  return { request, local };
}

/** How the request schema's messages name the fields on the command line. */
const FLAG_NAMES: FieldNames = {
  buildId: '--build-id',
  appRegistry: '--appregistry-org/--appregistry-endpoint',
  'appRegistry.org': '--appregistry-org',
  'appRegistry.endpoint': '--appregistry-endpoint',
  'appRegistry.maxPackages': '--max-packages',
  manifestDir: '--manifest-dir',
  bundles: '--bundles',
  from: '--from',
  to: '--to',
  filterByOs: '--filter-by-os',
  insecure: '--insecure',
  maxPerRegistry: '--max-per-registry',
  sourceDateEpoch: 'SOURCE_DATE_EPOCH',
  indexFormat: '--index-format',
  decodeLimits: '--max-package-entries/--max-file-size/--max-package-size',
  'decodeLimits.maxEntries': '--max-package-entries',
  'decodeLimits.maxFileBytes': '--max-file-size',
  'decodeLimits.maxTotalBytes': '--max-package-size',
  timeouts: '--connect-timeout/--headers-timeout/--idle-timeout',
  'timeouts.connectMs': '--connect-timeout',
  'timeouts.headersMs': '--headers-timeout',
  'timeouts.bodyMs': '--idle-timeout',
  maxManifestBytes: '--max-manifest-size',
};
