// A small App Registry (CNR API) server: serves every package folder of a directory (nested
// format, as in ../shared/corpus/dev/packages or examples/) as the packages of one org, with
// the three calls oc made (list, show release, pull blob). Used by integration tests and the
// README demo instead of quay.io, so they need no network beyond loopback. Packages are
// packed once at start, deterministically (pack.ts), so digests are stable across runs.
// Tests steer failures through `faults` (status codes, resets, slow or cut bodies, wrong
// digests, bad listing names) and read what happened from `requests`.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import yaml from 'js-yaml';
import type { TreeFile } from '../catalog/file-tree.js';
import { packPackage } from './pack.js';

export type AppRegistryCall = 'list' | 'show' | 'blob';

/** One injected failure. Rules are tried in order; the first that matches applies. */
export interface FaultRule {
  /** Which call it affects (default: every call). */
  on?: AppRegistryCall;
  /** Only requests about this repository (show/blob). */
  repository?: string;
  /** Affect only this many matching requests, then stop matching (default: all). */
  times?: number;
  /** Answer with this status and an appr error body. */
  status?: number;
  retryAfter?: string;
  /** Replace the body (with status 200 unless `status` is set), e.g. HTML for a JSON call. */
  body?: string;
  contentType?: string;
  /** Destroy the connection without answering. */
  reset?: boolean;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Blob: announce the full length, send this many bytes, then cut the connection. */
  truncateAt?: number;
  /** Blob: send half the body, pause this long, send the rest. */
  stallBodyMs?: number;
  /** Blob: flip one byte of the body (same length, wrong hash). */
  corruptBody?: boolean;
  /** Show: announce the digest of something else. */
  wrongDigest?: boolean;
  /** List: list `repository` (or the first package) under this name instead of `<org>/<repo>`. */
  badName?: string;
}

export interface AppRegistryServerOptions {
  /** A directory whose sub-folders are packages in nested format. */
  dir: string;
  org: string;
  host?: string;
  port?: number;
  /** When set, every request must carry exactly this Authorization header value. */
  token?: string;
  faults?: FaultRule[];
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
  faults: number;
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
  /** Mutable: tests push and clear rules between calls. */
  faults: FaultRule[];
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
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify({ error: { code, message, details: {} } });
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

function sendJson(res: ServerResponse, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
  const faults: FaultRule[] = options.faults ?? [];
  const requests: RequestCounters = {
    total: 0,
    list: 0,
    show: 0,
    blob: 0,
    unauthorized: 0,
    faults: 0,
    blobBytes: 0,
    inFlight: 0,
    maxInFlight: 0,
  };
  const org = options.org;
  const host = options.host ?? '127.0.0.1';

  const takeFault = (call: AppRegistryCall, repository?: string): FaultRule | undefined => {
    const rule = faults.find(
      (f) =>
        (f.on === undefined || f.on === call) &&
        (f.repository === undefined || f.repository === repository) &&
        (f.times ?? 1) > 0,
    );
    if (!rule) return undefined;
    if (rule.times !== undefined) rule.times--;
    requests.faults++;
    return rule;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    requests.total++;
    const url = new URL(req.url ?? '/', 'http://x');
    if (options.token !== undefined && req.headers.authorization !== options.token) {
      requests.unauthorized++;
      return apprError(res, 401, 'unauthorized-access', 'Unauthorized access');
    }
    if (req.method !== 'GET')
      return apprError(res, 405, 'method-not-allowed', 'Method not allowed');
    const prefix = `${BASE_PATH}/api/v1/packages`;
    if (url.pathname !== prefix && !url.pathname.startsWith(`${prefix}/`))
      return apprError(res, 404, 'not-found', 'Not found');
    let segs: string[];
    try {
      segs = url.pathname.slice(prefix.length).split('/').filter(Boolean).map(decodeURIComponent);
    } catch {
      return apprError(res, 400, 'bad-request', 'Bad path');
    }
    const call: AppRegistryCall | undefined =
      segs.length === 0
        ? 'list'
        : segs.length === 4 && segs[3] === 'helm'
          ? 'show'
          : segs.length === 5 && segs[2] === 'blobs' && segs[3] === 'sha256'
            ? 'blob'
            : undefined;
    if (!call) return apprError(res, 404, 'not-found', 'Not found');
    requests[call]++;
    const repository = call === 'list' ? undefined : segs[1];
    const fault = takeFault(call, repository);
    if (fault?.delayMs) await sleep(fault.delayMs);
    if (fault?.reset) {
      req.socket.destroy();
      return;
    }
    if (fault?.status !== undefined || fault?.body !== undefined) {
      const status = fault.status ?? 200;
      const headers: Record<string, string> = fault.retryAfter
        ? { 'retry-after': fault.retryAfter }
        : {};
      if (fault.body !== undefined) {
        res.writeHead(status, { 'content-type': fault.contentType ?? 'text/html', ...headers });
        res.end(fault.body);
        return;
      }
      return apprError(res, status, 'injected', `Injected status ${status}`, headers);
    }

    if (call === 'list') {
      const namespace = url.searchParams.get('namespace');
      const listed = namespace === org ? [...packages.values()] : [];
      const body = listed.map((p, i) => {
        const bad =
          fault?.badName !== undefined &&
          (fault.repository === undefined ? i === 0 : fault.repository === p.repository);
        return {
          name: bad ? fault!.badName : `${org}/${p.repository}`,
          namespace: org,
          default: p.release,
          releases: [p.release],
          manifests: ['helm'],
          visibility: 'public',
          channels: [],
          created_at: FIXED_TIME,
          updated_at: FIXED_TIME,
        };
      });
      return sendJson(res, body);
    }

    const pkg = segs[0] === org ? packages.get(repository!) : undefined;
    if (!pkg)
      return apprError(
        res,
        404,
        'package-not-found',
        `package: ${segs[0]}/${repository} not found`,
      );

    if (call === 'show') {
      if (segs[2] !== pkg.release)
        return apprError(res, 404, 'package-not-found', `release ${segs[2]} not found`);
      const digest = fault?.wrongDigest
        ? createHash('sha256').update(`not ${pkg.digest}`).digest('hex')
        : pkg.digest;
      return sendJson(res, {
        package: `${org}/${pkg.repository}`,
        release: pkg.release,
        mediaType: 'helm',
        channels: [],
        created_at: FIXED_TIME,
        content: { digest, size: pkg.size, mediaType: BLOB_MEDIA_TYPE, urls: [] },
      });
    }

    if (segs[4] !== pkg.digest) return apprError(res, 404, 'blob-not-found', 'blob not found');
    let body = pkg.blob;
    if (fault?.corruptBody) {
      body = Uint8Array.from(body);
      body[Math.floor(body.length / 2)]! ^= 0xff;
    }
    res.writeHead(200, { 'content-type': 'application/x-gzip', 'content-length': body.length });
    if (fault?.truncateAt !== undefined) {
      const part = body.subarray(0, Math.min(fault.truncateAt, body.length - 1));
      requests.blobBytes += part.length;
      res.write(part, () => res.socket?.destroy());
      return;
    }
    requests.blobBytes += body.length;
    if (fault?.stallBodyMs) {
      const half = Math.floor(body.length / 2);
      res.write(body.subarray(0, half));
      await sleep(fault.stallBodyMs);
      res.end(body.subarray(half));
      return;
    }
    res.end(body);
  };

  const server = createServer((req, res) => {
    requests.inFlight++;
    requests.maxInFlight = Math.max(requests.maxInFlight, requests.inFlight);
    res.once('close', () => {
      requests.inFlight--;
    });
    handle(req, res).catch(() => {
      if (!res.headersSent) apprError(res, 500, 'internal-error', 'Internal error');
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
    faults,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
