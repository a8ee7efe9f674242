// Fault injection for our App Registry server (lib/appregistry/server.ts), kept out of the
// shipped server: rules (status codes, resets, delays, slow or cut bodies, wrong digests, bad
// listing names) applied through the server's `respond` hook, so tests steer failures of the
// real server without a second copy of it. Rules are tried in order; the first that matches
// applies, and `times` limits how often.
import { createHash } from 'node:crypto';
import {
  type AppRegistryAnswer,
  type AppRegistryCall,
  type AppRegistryRespondHook,
  type AppRegistryServer,
  type AppRegistryServerOptions,
  startAppRegistryServer,
} from '../../lib/appregistry/server.js';

/** One injected failure. */
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

export interface FaultyAppRegistryServer extends AppRegistryServer {
  /** Mutable: tests push and clear rules between calls. */
  faults: FaultRule[];
  /** How many requests a rule applied to. */
  faulted: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function errorAnswer(status: number, headers: Record<string, string>): AppRegistryAnswer {
  const body = JSON.stringify({
    error: { code: 'injected', message: `Injected status ${status}`, details: {} },
  });
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

/** The same answer with a JSON body rewritten by `edit` (content-length follows). */
function editJson(answer: AppRegistryAnswer, edit: (value: unknown) => void): AppRegistryAnswer {
  const value: unknown = JSON.parse(String(answer.body));
  edit(value);
  const body = JSON.stringify(value);
  return {
    ...answer,
    headers: { ...answer.headers, 'content-length': Buffer.byteLength(body) },
    body,
  };
}

/** The `respond` hook applying `faults` (read at each call, so tests may change the array). */
export function faultHook(
  org: string,
  faults: FaultRule[],
  onFault: () => void = () => {},
): AppRegistryRespondHook {
  const take = (call: AppRegistryCall, repository?: string): FaultRule | undefined => {
    const rule = faults.find(
      (f) =>
        (f.on === undefined || f.on === call) &&
        (f.repository === undefined || f.repository === repository) &&
        (f.times ?? 1) > 0,
    );
    if (!rule) return undefined;
    if (rule.times !== undefined) rule.times--;
    onFault();
    return rule;
  };

  return async ({ call, repository, req, res }, answer, send) => {
    const fault = take(call, repository);
    if (!fault) return send(answer);
    if (fault.delayMs) await sleep(fault.delayMs);
    if (fault.reset) {
      req.socket.destroy();
      return;
    }
    if (fault.status !== undefined || fault.body !== undefined) {
      const status = fault.status ?? 200;
      const headers: Record<string, string> = fault.retryAfter
        ? { 'retry-after': fault.retryAfter }
        : {};
      if (fault.body !== undefined) {
        res.writeHead(status, { 'content-type': fault.contentType ?? 'text/html', ...headers });
        res.end(fault.body);
        return;
      }
      return send(errorAnswer(status, headers));
    }
    if (answer.status !== 200) return send(answer);

    if (call === 'list' && fault.badName !== undefined) {
      const badName = fault.badName;
      return send(
        editJson(answer, (listed) => {
          (listed as { name: string }[]).forEach((entry, i) => {
            const bad =
              fault.repository === undefined
                ? i === 0
                : entry.name === `${org}/${fault.repository}`;
            if (bad) entry.name = badName;
          });
        }),
      );
    }
    if (call === 'show' && fault.wrongDigest) {
      return send(
        editJson(answer, (shown) => {
          const content = (shown as { content: { digest: string } }).content;
          content.digest = createHash('sha256').update(`not ${content.digest}`).digest('hex');
        }),
      );
    }
    if (call !== 'blob' || typeof answer.body === 'string') return send(answer);

    let body = answer.body;
    if (fault.corruptBody) {
      body = Uint8Array.from(body);
      body[Math.floor(body.length / 2)]! ^= 0xff;
    }
    if (fault.truncateAt !== undefined) {
      res.writeHead(answer.status, answer.headers);
      res.write(body.subarray(0, Math.min(fault.truncateAt, body.length - 1)), () =>
        res.socket?.destroy(),
      );
      return;
    }
    if (fault.stallBodyMs) {
      const half = Math.floor(body.length / 2);
      res.writeHead(answer.status, answer.headers);
      res.write(body.subarray(0, half));
      await sleep(fault.stallBodyMs);
      res.end(body.subarray(half));
      return;
    }
    send({ ...answer, body });
  };
}

/** Our App Registry server with fault rules (`options.faults`, or pushed later on `.faults`). */
export async function startFaultyAppRegistryServer(
  options: Omit<AppRegistryServerOptions, 'respond'> & { faults?: FaultRule[] },
): Promise<FaultyAppRegistryServer> {
  const { faults = [], ...serverOptions } = options;
  // Requests arrive only after the server is returned, so `faulty` is set by then.
  let faulty: FaultyAppRegistryServer | undefined;
  const server = await startAppRegistryServer({
    ...serverOptions,
    respond: faultHook(options.org, faults, () => {
      if (faulty) faulty.faulted++;
    }),
  });
  faulty = Object.assign(server, { faults, faulted: 0 });
  return faulty;
}
