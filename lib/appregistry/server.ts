// A small App Registry (CNR API) server: serves every package folder of a directory (nested
// format, as in ../shared/corpus/dev/packages or examples/) as the packages of one org, with
// the three calls oc made (list, show release, pull blob). Used by integration tests and the
// README demo instead of quay.io, so they need no network beyond loopback. Packages are
// packed once at start, deterministically (pack.ts), so digests are stable across runs.
// Tests read what happened from `requests`; fault injection lives in test/support
// (appregistry-faults.ts) on top of the `respond` hook, which production never sets.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import yaml from 'js-yaml';
import type { TreeFile } from '../catalog/file-tree.js';
import { packPackage } from './pack.js';

export type AppRegistryCall = 'list' | 'show' | 'blob';

/** What the server is about to send for one call: status, headers and the whole body. */
export interface AppRegistryAnswer {
  status: number;
  headers: Record<string, string | number>;
  body: string | Uint8Array;
}

/** One recognised call, as a `respond` hook sees it. */
export interface AppRegistryExchange {
  call: AppRegistryCall;
  /** The repository a show or blob call is about (undefined for list). */
  repository?: string;
  req: IncomingMessage;
  res: ServerResponse;
}

/**
 * A hook around the last step of every recognised call (list, show, blob): it gets the answer
 * the server computed and `send`, which writes an answer on the response. It may pass the
 * answer on unchanged, change or replace it, delay it, or answer (or drop the connection) on
 * `exchange.res` itself. Test-only: test/support/appregistry-faults.ts injects failures with
 * it; the shipped `catalog-build serve-appregistry` never sets it, and without it the answer
 * is sent as is.
 */
export type AppRegistryRespondHook = (
  exchange: AppRegistryExchange,
  answer: AppRegistryAnswer,
  send: (answer: AppRegistryAnswer) => void,
) => void | Promise<void>;

export interface AppRegistryServerOptions {
  /** A directory whose sub-folders are packages in nested format. */
  dir: string;
  org: string;
  host?: string;
  port?: number;
  /** When set, every request must carry exactly this Authorization header value. */
  token?: string;
  /** Test-only hook around each call's answer (see AppRegistryRespondHook); default: none. */
  respond?: AppRegistryRespondHook;
  /** Leading folder inside each blob, like courier's temp dir name (default: none). */
  prefix?: string;
  /** Raw blobs served as further packages (tests serve hostile blobs this way). */
  extraPackages?: { repository: string; release?: string; blob: Uint8Array }[];
}

export interface ServedPackage {
  repository: string;
  release: string;
  digest: string;
  size: number;
  blob: Uint8Array;
}

export interface RequestCounters {
  total: number;
  list: number;
  show: number;
  blob: number;
  unauthorized: number;
  /** Bytes of the blob answers sent through the server's own `send` (not a hook's writes). */
  blobBytes: number;
  /** Requests being answered now, and the most at once (to check bounded parallelism). */
  inFlight: number;
  maxInFlight: number;
}

export interface AppRegistryServer {
  /** The endpoint to give clients, including the `/cnr` path. */
  url: string;
  org: string;
  packages: ReadonlyMap<string, ServedPackage>;
  requests: RequestCounters;
  stop(): Promise<void>;
}

const BASE_PATH = '/cnr';
const FIXED_TIME = '1970-01-01T00:00:00';
const BLOB_MEDIA_TYPE = 'application/vnd.cnr.package.v0.2+gzip';

async function readTree(root: string, rel = ''): Promise<TreeFile[]> {
  const out: TreeFile[] = [];
  const entries = await readdir(path.join(root, rel), { withFileTypes: true });
  for (const e of entries) {
    const child = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await readTree(root, child)));
    else if (e.isFile()) out.push({ path: child, data: await readFile(path.join(root, child)) });
  }
  return out;
}

/**
 * The release served as `default`: the version in the name of the default channel's
 * current CSV (e.g. etcdoperator.v0.9.4 → 0.9.4), else "1.0.0". Simple and stable.
 */
function defaultRelease(files: TreeFile[]): string {
  const pkgFile = files.find((f) => !f.path.includes('/') && f.path.endsWith('.package.yaml'));
  if (!pkgFile) return '1.0.0';
  try {
    const pkg = yaml.load(new TextDecoder().decode(pkgFile.data)) as {
      channels?: { name?: string; currentCSV?: string }[];
      defaultChannel?: string;
    };
    const channels = Array.isArray(pkg?.channels) ? pkg.channels : [];
    const channel = channels.find((c) => c?.name === pkg.defaultChannel) ?? channels[0];
    const match = /(\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]*)?)$/.exec(channel?.currentCSV ?? '');
    return match?.[1] ?? '1.0.0';
  } catch {
    return '1.0.0';
  }
}

export async function loadServedPackages(
  dir: string,
  prefix?: string,
): Promise<Map<string, ServedPackage>> {
  const out = new Map<string, ServedPackage>();
  const entries = (await readdir(dir, { withFileTypes: true }))
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  for (const repository of entries) {
    const files = await readTree(path.join(dir, repository));
    const blob = packPackage(files, prefix === undefined ? {} : { prefix });
    const digest = createHash('sha256').update(blob).digest('hex');
    out.set(repository, {
      repository,
      release: defaultRelease(files),
      digest,
      size: blob.length,
      blob,
    });
  }
  return out;
}

function apprError(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): AppRegistryAnswer {
  const body = JSON.stringify({ error: { code, message, details: {} } });
  return {
    status,
    headers: {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      ...headers,
    },
    body,
  };
}

function json(value: unknown): AppRegistryAnswer {
  const body = JSON.stringify(value);
  return {
    status: 200,
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    body,
  };
}

function send(res: ServerResponse, answer: AppRegistryAnswer): void {
  res.writeHead(answer.status, answer.headers);
  res.end(answer.body);
}

export async function startAppRegistryServer(
  options: AppRegistryServerOptions,
): Promise<AppRegistryServer> {
  const packages = await loadServedPackages(options.dir, options.prefix);
  for (const extra of options.extraPackages ?? []) {
    const digest = createHash('sha256').update(extra.blob).digest('hex');
    const release = extra.release ?? '1.0.0';
    packages.set(extra.repository, {
      repository: extra.repository,
      release,
      digest,
      size: extra.blob.length,
      blob: extra.blob,
    });
  }
  const requests: RequestCounters = {
    total: 0,
    list: 0,
    show: 0,
    blob: 0,
    unauthorized: 0,
    blobBytes: 0,
    inFlight: 0,
    maxInFlight: 0,
  };
  const org = options.org;
  const host = options.host ?? '127.0.0.1';

  /** The answer to a recognised call; `segs` are the decoded path segments after /packages. */
  const answerCall = (
    call: AppRegistryCall,
    segs: string[],
    url: URL,
    repository: string | undefined,
  ): AppRegistryAnswer => {
    if (call === 'list') {
      const namespace = url.searchParams.get('namespace');
      const listed = namespace === org ? [...packages.values()] : [];
      return json(
        listed.map((p) => ({
          name: `${org}/${p.repository}`,
          namespace: org,
          default: p.release,
          releases: [p.release],
          manifests: ['helm'],
          visibility: 'public',
          channels: [],
          created_at: FIXED_TIME,
          updated_at: FIXED_TIME,
        })),
      );
    }

    const pkg = segs[0] === org ? packages.get(repository!) : undefined;
    if (!pkg)
      return apprError(404, 'package-not-found', `package: ${segs[0]}/${repository} not found`);

    if (call === 'show') {
      if (segs[2] !== pkg.release)
        return apprError(404, 'package-not-found', `release ${segs[2]} not found`);
      return json({
        package: `${org}/${pkg.repository}`,
        release: pkg.release,
        mediaType: 'helm',
        channels: [],
        created_at: FIXED_TIME,
        content: { digest: pkg.digest, size: pkg.size, mediaType: BLOB_MEDIA_TYPE, urls: [] },
      });
    }

    if (segs[4] !== pkg.digest) return apprError(404, 'blob-not-found', 'blob not found');
    return {
      status: 200,
      headers: { 'content-type': 'application/x-gzip', 'content-length': pkg.blob.length },
      body: pkg.blob,
    };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    requests.total++;
    const url = new URL(req.url ?? '/', 'http://x');
    if (options.token !== undefined && req.headers.authorization !== options.token) {
      requests.unauthorized++;
      return send(res, apprError(401, 'unauthorized-access', 'Unauthorized access'));
    }
    if (req.method !== 'GET')
      return send(res, apprError(405, 'method-not-allowed', 'Method not allowed'));
    const prefix = `${BASE_PATH}/api/v1/packages`;
    if (url.pathname !== prefix && !url.pathname.startsWith(`${prefix}/`))
      return send(res, apprError(404, 'not-found', 'Not found'));
    let segs: string[];
    try {
      segs = url.pathname.slice(prefix.length).split('/').filter(Boolean).map(decodeURIComponent);
    } catch {
      return send(res, apprError(400, 'bad-request', 'Bad path'));
    }
    const call: AppRegistryCall | undefined =
      segs.length === 0
        ? 'list'
        : segs.length === 4 && segs[3] === 'helm'
          ? 'show'
          : segs.length === 5 && segs[2] === 'blobs' && segs[3] === 'sha256'
            ? 'blob'
            : undefined;
    if (!call) return send(res, apprError(404, 'not-found', 'Not found'));
    requests[call]++;
    const repository = call === 'list' ? undefined : segs[1];
    const answer = answerCall(call, segs, url, repository);
    const sendAnswer = (a: AppRegistryAnswer): void => {
      if (call === 'blob' && a.status === 200 && typeof a.body !== 'string')
        requests.blobBytes += a.body.length;
      send(res, a);
    };
    if (options.respond) await options.respond({ call, repository, req, res }, answer, sendAnswer);
    else sendAnswer(answer);
  };

  const server = createServer((req, res) => {
    requests.inFlight++;
    requests.maxInFlight = Math.max(requests.maxInFlight, requests.inFlight);
    res.once('close', () => {
      requests.inFlight--;
    });
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, apprError(500, 'internal-error', 'Internal error'));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const hostInUrl = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${hostInUrl}:${port}${BASE_PATH}`,
    org,
    packages,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
