// `catalog-build serve`: the deployment's shape on one machine, on loopback. The HTTP API
// (POST /builds, GET /builds/{id}, GET /builds/{id}/report.html) is the API Lambda's handler
// behind a node:http server; builds run through the real state machine definition and the
// real handlers (functions/commons/local-step-functions.ts) against a local directory store;
// the upstream watcher runs on its interval, and the base-image trigger's logic polls each
// template's `from` and rebuilds when its digest moves (in AWS an ECR push event says so).
// Build templates (WATCH_TARGETS in AWS) come from a JSON file; secrets they name come from
// CATALOG_BUILD_SECRET_<NAME>, as for `catalog-build pipeline`.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { defaultStoreDir } from '../../lib/cli/build-options.js';
import { untilStopped } from '../../lib/cli/until-stopped.js';
import { describeError, UsageError } from '../../lib/errors.js';
import { parseSourceLocation } from '../../lib/image/location.js';
import { registryClientOnDemand } from '../../lib/registry/open-client.js';
import { newBuildId } from '../../lib/stages/build-request.js';
import { LocalDirStore } from '../../lib/store/local-dir-store.js';
import { getJson, putJson, StoreNotFoundError } from '../../lib/store/store.js';
import { secretEnvName } from './pipeline.js';

export const SERVE_USAGE = `Usage: catalog-build serve [--store DIR] [--port N] [--targets FILE]
                           [--watch-interval SECONDS] [--base-image-interval SECONDS] [--verbose]

Runs the HTTP API, the upstream watcher and the base-image trigger on 127.0.0.1, with builds
run by the state machine definition and handlers on this machine:
  POST /builds                  start a build (the JSON of examples/build-request.json) → 202
  GET  /builds/{id}             status, current state and the report
  GET  /builds/{id}/report.html the report page
  GET  /                        the newest builds, linked to their report pages
  POST /watch                   run one watcher and base-image tick now
  --store DIR        the local store (default $XDG_CACHE_HOME/olm-catalog-builder)
  --port N           default 8080 (0: any free port; the URL is printed on stdout)
  --targets FILE     build templates (a JSON array, like WATCH_TARGETS) for the watcher and
                     the base-image trigger
  --watch-interval S seconds between watcher ticks (default 21600, the deployment's 6 hours)
  --base-image-interval S  seconds between base-image checks (default 900)
Secrets named in requests come from CATALOG_BUILD_SECRET_<NAME>.`;

export interface ServeOptions {
  storeDir: string;
  port?: number;
  /** Build templates for the watcher and the base-image trigger. */
  targets?: unknown[];
  watchIntervalMs?: number;
  baseImageIntervalMs?: number;
  env?: NodeJS.ProcessEnv;
  verbose?: boolean;
}

export interface Serving {
  url: string;
  /** One watcher tick: what the watch handler returned. */
  tickWatch(): Promise<unknown>;
  /** One base-image check: the build ids it started. */
  tickBaseImages(): Promise<string[]>;
  /** Settles when every build started so far has finished. */
  idle(): Promise<void>;
  /** Executions started since the server started. */
  executions(): Array<{ name: string; status: string }>;
  stop(): Promise<void>;
}

async function readBody(req: IncomingMessage, limit = 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > limit) throw new UsageError('reading request body: over 1 MiB');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** "/builds/abc/report.html" → the API Gateway route key and path parameters. */
export function routeOf(
  method: string,
  pathname: string,
): { routeKey: string; id?: string } | undefined {
  if (method === 'POST' && pathname === '/builds') return { routeKey: 'POST /builds' };
  const m = /^\/builds\/([^/]+)(\/report\.html)?$/.exec(pathname);
  if (method === 'GET' && m) {
    const id = decodeURIComponent(m[1]!);
    return { routeKey: m[2] ? 'GET /builds/{id}/report.html' : 'GET /builds/{id}', id };
  }
  return undefined;
}

const escapeHtml = (t: string) =>
  t.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);

/** GET /: the newest builds with a report, each linking to its report page. */
async function buildsPage(store: LocalDirStore, limit = 50): Promise<string> {
  const ids = (await store.list('builds/'))
    .map((o) => /^builds\/([^/]+)\/report\.json$/.exec(o.key)?.[1])
    .filter((id): id is string => Boolean(id))
    .sort()
    .reverse()
    .slice(0, limit);
  const rows = await Promise.all(
    ids.map(async (id) => {
      const r = await getJson<{ outcome?: string; changeSummary?: string; generatedAt?: string }>(
        store,
        `builds/${id}/report.json`,
      ).catch(() => ({}) as { outcome?: string; changeSummary?: string; generatedAt?: string });
      return `<tr><td><a href="/builds/${encodeURIComponent(id)}/report.html">${escapeHtml(id)}</a></td><td>${escapeHtml(r.outcome ?? '')}</td><td>${escapeHtml(r.changeSummary ?? '')}</td><td>${escapeHtml(r.generatedAt ?? '')}</td></tr>`;
    }),
  );
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Catalog builds</title><style>body{font-family:system-ui,sans-serif;margin:24px}td,th{border:1px solid #d0d7de;padding:4px 8px;text-align:left}table{border-collapse:collapse}</style></head><body><h1>Catalog builds</h1><p>Start one: <code>curl -XPOST http://127.0.0.1:&lt;port&gt;/builds -d '{"manifestDir": "…"}'</code></p><table id="builds"><tr><th>build</th><th>outcome</th><th>changes</th><th>reported</th></tr>${rows.join('')}</table></body></html>\n`;
}

export async function startServe(options: ServeOptions): Promise<Serving> {
  const env = options.env ?? process.env;
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  process.env.POWERTOOLS_LOG_LEVEL ??= options.verbose ? 'INFO' : 'SILENT';
  const store = new LocalDirStore(options.storeDir);
  const { setFunctionRuntime, SecretNotFoundError, watchTemplates, credentialsFor } = await import(
    '../commons/runtime.js'
  );
  const { localStepFunctions } = await import('../commons/local-step-functions.js');
  const { startBuild } = await import('../commons/start-build.js');
  const { localLambdaContext } = await import('../commons/lambda-context.js');
  const { handler: api } = await import('../api.js');
  const { handler: watch } = await import('../watch.js');
  const sfn = localStepFunctions({
    onFinish: (name, status) => process.stderr.write(`build ${name}: ${status}\n`),
  });
  const runtime = {
    store,
    async resolveSecret(name: string) {
      const value = env[secretEnvName(name)];
      if (value === undefined)
        throw new SecretNotFoundError(`reading secret ${name}: ${secretEnvName(name)} is not set`);
      return value;
    },
    sfn: sfn.client,
    stateMachineArn: sfn.stateMachineArn,
    watchTargets: options.targets ?? [],
  };
  setFunctionRuntime(runtime);

  const tickWatch = () => watch({}, localLambdaContext('catalog-build-watch'));
  const tickBaseImages = async (): Promise<string[]> => {
    const started: string[] = [];
    for (const template of watchTemplates(runtime)) {
      if (!template.from) continue;
      const loc = parseSourceLocation(template.from);
      if (loc.kind !== 'registry') continue;
      // Read as every stage reads it: an error names the secret and the field that named it.
      const credentials = await credentialsFor(runtime, {
        ...(template.registryAuthSecret ? { registryAuthSecret: template.registryAuthSecret } : {}),
      });
      const registry = registryClientOnDemand(
        { credentials },
        { insecure: Boolean(template.insecure) },
      );
      try {
        const head = await (await registry.get()).headManifest(loc.ref);
        if (!head) continue;
        const key = `base-images/${createHash('sha256').update(template.from).digest('hex').slice(0, 32)}.json`;
        const seen = await getJson<{ digest: string }>(store, key).catch((err) => {
          if (err instanceof StoreNotFoundError) return undefined;
          throw err;
        });
        await putJson(store, key, { from: template.from, digest: head.digest });
        // First sight records the digest; a moved digest is a pushed base: rebuild on it.
        if (seen && seen.digest !== head.digest) {
          const build = await startBuild(runtime, { ...template, buildId: newBuildId() });
          started.push(build.buildId);
        }
      } finally {
        await registry.close();
      }
    }
    return started;
  };

  const server: Server = createServer(async (req, res) => {
    const send = (status: number, headers: Record<string, string>, body: string) => {
      res.writeHead(status, headers);
      res.end(body);
    };
    try {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (req.method === 'GET' && url.pathname === '/') {
        send(
          200,
          {
            'content-type': 'text/html; charset=utf-8',
            'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
          },
          await buildsPage(store),
        );
        return;
      }
      if (req.method === 'POST' && url.pathname === '/watch') {
        const result = { watch: await tickWatch(), baseImages: await tickBaseImages() };
        send(200, { 'content-type': 'application/json' }, JSON.stringify(result));
        return;
      }
      const route = routeOf(req.method ?? 'GET', url.pathname);
      if (!route) {
        send(
          404,
          { 'content-type': 'application/json' },
          JSON.stringify({
            error: 'NotFound',
            message: `routing ${req.method} ${url.pathname}: no such route`,
          }),
        );
        return;
      }
      const body = req.method === 'POST' ? await readBody(req) : null;
      const result = await api(
        {
          routeKey: route.routeKey,
          body,
          isBase64Encoded: false,
          ...(route.id ? { pathParameters: { id: route.id } } : {}),
        },
        localLambdaContext('catalog-build-api', 29_000),
      );
      send(result.statusCode, result.headers, result.body);
    } catch (err) {
      const { name, message } = describeError(err);
      send(500, { 'content-type': 'application/json' }, JSON.stringify({ error: name, message }));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8080, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;

  // Ticks never overlap: a slow one makes the next wait.
  const timers: NodeJS.Timeout[] = [];
  const every = (ms: number | undefined, what: string, tick: () => Promise<unknown>) => {
    if (!ms) return;
    let running = false;
    timers.push(
      setInterval(() => {
        if (running) return;
        running = true;
        tick()
          .catch((err) => process.stderr.write(`${what} failed: ${describeError(err).message}\n`))
          .finally(() => {
            running = false;
          });
      }, ms),
    );
  };
  every(options.watchIntervalMs, 'watcher tick', tickWatch);
  every(options.baseImageIntervalMs, 'base-image check', tickBaseImages);

  return {
    url: `http://127.0.0.1:${port}`,
    tickWatch,
    tickBaseImages,
    idle: () => sfn.idle(),
    executions: () => sfn.executions(),
    async stop() {
      for (const t of timers) clearInterval(t);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await sfn.idle();
      setFunctionRuntime(undefined);
    },
  };
}

const seconds = (v: string | undefined, flag: string, fallback: number): number => {
  if (v === undefined) return fallback * 1000;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0)
    throw new UsageError(`reading serve flags: ${flag} must be a number of seconds`);
  return n * 1000;
};

export async function serveCommand(argv: string[]): Promise<number> {
  const OPTIONS = {
    store: { type: 'string' },
    port: { type: 'string' },
    targets: { type: 'string' },
    'watch-interval': { type: 'string' },
    'base-image-interval': { type: 'string' },
    verbose: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  } as const;
  let values: ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values'];
  try {
    ({ values } = parseArgs({ args: argv, options: OPTIONS, strict: true }));
  } catch (err) {
    throw new UsageError(`reading serve flags: ${(err as Error).message}`);
  }
  if (values.help) {
    process.stdout.write(`${SERVE_USAGE}\n`);
    return 0;
  }
  const port = values.port === undefined ? 8080 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`reading serve flags: --port must be 0–65535, got "${values.port}"`);
  let targets: unknown[] = [];
  if (values.targets) {
    try {
      targets = JSON.parse(await readFile(values.targets, 'utf8'));
    } catch (err) {
      throw new UsageError(`reading build templates ${values.targets}: ${(err as Error).message}`);
    }
    if (!Array.isArray(targets))
      throw new UsageError(`reading build templates ${values.targets}: not a JSON array`);
  }
  if (values.verbose) {
    process.env.POWERTOOLS_DEV ??= 'true';
    console.log = console.error;
    console.info = console.error;
  }
  const storeDir = path.resolve(values.store ?? defaultStoreDir());
  const serving = await startServe({
    storeDir,
    port,
    targets,
    watchIntervalMs: seconds(values['watch-interval'], '--watch-interval', 21_600),
    baseImageIntervalMs: seconds(values['base-image-interval'], '--base-image-interval', 900),
    verbose: Boolean(values.verbose),
  });
  process.stdout.write(`${serving.url}\n`);
  process.stderr.write(
    `serving the build API on ${serving.url} (store ${storeDir}, ${targets.length} build templates); stop with Ctrl-C\n`,
  );
  await untilStopped();
  await serving.stop();
  return 0;
}
