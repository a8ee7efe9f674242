// Benchmark: downloading the dev corpus (41 packages) from our App Registry server on
// 127.0.0.1 into an empty local store (list → show → pull + verify + decode-check → put),
// then the cached second run (0 blobs pulled), each in a fresh node process measured by GNU
// time (wall, peak RSS). When the CLI is built (dist/), also the whole command
// `catalog-build --appregistry-org … --to-db …` (download + DB), cold and cached.
// The server runs in this process so it does not count in the measured RSS.
// Usage: node bench/appregistry.mjs [RUNS] [--corpus DIR] [--download-only]
//   (npm run build first for the CLI rows). --corpus serves another packages directory, e.g. a
//   synthetic org of 1,000 packages from bench/make-synthetic-catalog.mjs (default: the dev corpus).
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';

const args = process.argv.slice(2);
const option = (name) => {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args.splice(i, 2)[1];
};
const downloadOnly = args.includes('--download-only');
if (downloadOnly) args.splice(args.indexOf('--download-only'), 1);
const corpusArg = option('--corpus');
const runs = Number(args[0] ?? 5);
const root = path.resolve(import.meta.dirname, '..');
const corpus = corpusArg
  ? path.resolve(corpusArg)
  : path.resolve(root, '..', 'shared', 'corpus', 'dev', 'packages');
if (!existsSync(corpus)) {
  console.error(`skipped: ${corpus} is absent`);
  process.exit(0);
}
const tmp = mkdtempSync(path.join(os.tmpdir(), 'bench-appr-'));
const entry = path.join(tmp, 'entry.ts');
writeFileSync(
  entry,
  [
    `export { startAppRegistryServer } from ${JSON.stringify(path.join(root, 'lib/appregistry/server.ts'))};`,
    `export { listPackages } from ${JSON.stringify(path.join(root, 'lib/stages/list-packages.ts'))};`,
    `export { fetchPackages } from ${JSON.stringify(path.join(root, 'lib/stages/fetch-package.ts'))};`,
    `export { LocalDirStore } from ${JSON.stringify(path.join(root, 'lib/store/local-dir-store.ts'))};`,
    `export { silentLogger } from ${JSON.stringify(path.join(root, 'lib/stages/types.ts'))};`,
  ].join('\n'),
);
const bundle = path.join(tmp, 'appr.mjs');
await build({
  entryPoints: [entry],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile: bundle,
  logLevel: 'warning',
  banner: {
    js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
  },
});
const { startAppRegistryServer } = await import(bundle);

// The measured child: list + fetch every package into the store, print what it did.
const child = path.join(tmp, 'download.mjs');
writeFileSync(
  child,
  `import { listPackages, fetchPackages, LocalDirStore, silentLogger } from ${JSON.stringify(bundle)};
const [endpoint, storeDir] = process.argv.slice(2);
const t0 = performance.now();
const deps = { store: new LocalDirStore(storeDir), log: silentLogger, credentials: { appRegistryToken: 'basic YmVuY2g6YmVuY2g=' } };
const source = { endpoint, org: 'community' };
const listed = await listPackages({ buildId: 'bench', appRegistry: source }, deps);
const fetched = await fetchPackages({ buildId: 'bench', appRegistry: source, packages: listed.packages }, deps);
console.log(JSON.stringify({ ms: performance.now() - t0, packages: fetched.length, downloaded: fetched.filter((p) => p.downloaded).length, bytes: fetched.reduce((n, p) => n + p.size, 0) }));
`,
);

const server = await startAppRegistryServer({
  dir: corpus,
  org: 'community',
  token: 'basic YmVuY2g6YmVuY2g=',
});
// Asynchronous on purpose: the server answers from this process's event loop.
const timed = async (args) => {
  const res = await promisify(execFile)('/usr/bin/time', ['-f', '%e %M', ...args], {
    encoding: 'utf8',
  });
  const [wall, rssKb] = res.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { wall, rssMb: rssKb / 1024, stdout: res.stdout };
};
const stats = (samples) => {
  const walls = samples.map((s) => s.wall).sort((a, b) => a - b);
  return {
    min: walls[0],
    median: walls[Math.floor(walls.length / 2)],
    max: walls.at(-1),
    rss: Math.max(...samples.map((s) => s.rssMb)),
  };
};

const rows = [];
async function scenario(label, makeArgs) {
  const cold = [];
  const warm = [];
  let detail = '';
  for (let i = 0; i < runs; i++) {
    const store = path.join(tmp, `store-${label.length}-${i}`);
    const blobsBefore = server.requests.blob;
    const c = await timed(makeArgs(store, i, 'cold'));
    const pulledCold = server.requests.blob - blobsBefore;
    const w = await timed(makeArgs(store, i, 'warm'));
    const pulledWarm = server.requests.blob - blobsBefore - pulledCold;
    cold.push(c);
    warm.push(w);
    detail = `blobs pulled: ${pulledCold} on the first run, ${pulledWarm} on the second`;
    if (c.stdout.trim().startsWith('{'))
      detail += `; in-process ${JSON.parse(c.stdout).ms.toFixed(0)} ms cold, ${JSON.parse(w.stdout).ms.toFixed(0)} ms cached`;
    rmSync(store, { recursive: true, force: true });
  }
  rows.push([`${label}, empty store`, stats(cold), detail]);
  rows.push([`${label}, second run (cached)`, stats(warm), '']);
}

await scenario('download only (list + fetch stages)', (store) => [
  'node',
  child,
  server.url,
  store,
]);
const cli = path.join(root, 'dist/functions/local/main.js');
if (!downloadOnly && existsSync(cli)) {
  await scenario('CLI: download + DB (`--appregistry-org … --to-db`)', (store, i, phase) => [
    'node',
    cli,
    '--appregistry-org',
    'community',
    '--appregistry-endpoint',
    server.url,
    '--auth-token',
    'basic YmVuY2g6YmVuY2g=',
    '--to-db',
    path.join(tmp, `db-${i}-${phase}.db`),
    '--store',
    store,
    '-q',
  ]);
}
await server.stop();

const cpu = readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? 'unknown';
const blobBytes = [...server.packages.values()].reduce((n, p) => n + p.size, 0);
console.log(
  `machine: ${os.cpus().length} cores, ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}; ${new Date().toISOString().slice(0, 16)}Z; load average ${os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(
      ' ',
    )} at the end; ${runs} runs each; corpus: ${server.packages.size} packages, ${blobBytes} blob bytes`,
);
console.log('| run | wall min | wall median | wall max | peak RSS | notes |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const [label, s, note] of rows) {
  console.log(
    `| ${label} | ${s.min.toFixed(2)} s | ${s.median.toFixed(2)} s | ${s.max.toFixed(2)} s | ${s.rss.toFixed(0)} MiB | ${note} |`,
  );
}
rmSync(tmp, { recursive: true, force: true });
