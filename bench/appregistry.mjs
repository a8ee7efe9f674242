// Benchmark: downloading the dev corpus (41 packages) from our App Registry server on
// 127.0.0.1 into an empty local store (list → show → pull + verify + decode-check → put),
// then the cached second run (0 blobs pulled), each in a fresh node process measured by GNU
// time (wall, CPU user + sys, peak RSS). When the CLI is built (dist/), also the whole command
// `catalog-build --appregistry-org … --to-db …` (download + DB), cold and cached.
// The server runs in this process so it does not count in the measured RSS.
// Usage: node bench/appregistry.mjs [RUNS] [--corpus DIR | --packages N] [--download-only]
//        [--unpack] [--baseline CHECKOUT]
//   (npm run build first for the CLI rows). --corpus serves another packages directory;
//   --packages N serves a synthetic org of about N packages: renamed copies of the dev corpus
//   (bench/make-synthetic-catalog.mjs), one package folder per copy and package.
//   --unpack adds the oc "download into a folder" mode (`--manifest-dir OUT` beside --to-db)
//   and --baseline CHECKOUT (another checkout with dist/ built, e.g. main before a change)
//   runs the same CLI commands from there: both side by side, interleaved run by run, on a
//   store the download already filled (so the rows differ only in what the builds do).
import { execFile, execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
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
const unpack = args.includes('--unpack');
if (unpack) args.splice(args.indexOf('--unpack'), 1);
const corpusArg = option('--corpus');
const packagesArg = option('--packages');
const baselineArg = option('--baseline');
const runs = Number(args[0] ?? 5);
const root = path.resolve(import.meta.dirname, '..');
const devCorpus = path.resolve(root, '..', 'shared', 'corpus', 'dev', 'packages');
const source = corpusArg ? path.resolve(corpusArg) : devCorpus;
if (!existsSync(source)) {
  console.error(`skipped: ${source} is absent`);
  process.exit(0);
}
const baselineCli = baselineArg
  ? path.resolve(baselineArg, 'dist/functions/local/main.js')
  : undefined;
if (baselineCli && !existsSync(baselineCli))
  throw new Error(`--baseline: ${baselineCli} is absent (npm run build there first)`);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'bench-appr-'));
/** A flat org of ~N packages: the copies' folders renamed `<package>-<copy>` side by side. */
function syntheticOrg(n) {
  const copies = path.join(tmp, 'copies');
  execFileSync(
    'node',
    [path.join(root, 'bench/make-synthetic-catalog.mjs'), source, copies, '--packages', n],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const flat = path.join(tmp, 'org');
  mkdirSync(flat);
  for (const copy of readdirSync(copies))
    for (const pkg of readdirSync(path.join(copies, copy)))
      renameSync(path.join(copies, copy, pkg), path.join(flat, `${pkg}-${copy}`));
  return flat;
}
const corpus = packagesArg ? syntheticOrg(packagesArg) : source;
/** The stages (and the unpacker) of checkout `from`, bundled into one module for the children. */
async function bundleOf(from, name) {
  const entry = path.join(tmp, `${name}.ts`);
  const lib = (f) => JSON.stringify(path.join(from, 'lib', f));
  writeFileSync(
    entry,
    [
      `export { startAppRegistryServer } from ${lib('appregistry/server.ts')};`,
      `export { listPackages } from ${lib('stages/list-packages.ts')};`,
      `export { fetchPackages } from ${lib('stages/fetch-package.ts')};`,
      `export { LocalDirStore } from ${lib('store/local-dir-store.ts')};`,
      `export { silentLogger } from ${lib('stages/types.ts')};`,
      `export { unpackPackages } from ${lib('cli/unpack.ts')};`,
    ].join('\n'),
  );
  const out = path.join(tmp, `${name}.mjs`);
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: out,
    logLevel: 'warning',
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
  });
  return out;
}
const bundle = await bundleOf(root, 'appr');
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

// The unpack alone (`--manifest-dir`'s part of the command): list + fetch on a filled store,
// then unpackPackages into OUT, with its own time, CPU and the peak RSS before and after it.
const unpackChild = path.join(tmp, 'unpack.mjs');
writeFileSync(
  unpackChild,
  `const [bundle, endpoint, storeDir, out] = process.argv.slice(2);
const { listPackages, fetchPackages, LocalDirStore, silentLogger, unpackPackages } = await import(bundle);
const deps = { store: new LocalDirStore(storeDir), log: silentLogger, credentials: { appRegistryToken: 'basic YmVuY2g6YmVuY2g=' } };
const source = { endpoint, org: 'community' };
const listed = await listPackages({ buildId: 'bench', appRegistry: source }, deps);
const fetched = await fetchPackages({ buildId: 'bench', appRegistry: source, packages: listed.packages }, deps);
const before = process.resourceUsage().maxRSS / 1024;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const files = await unpackPackages(deps.store, fetched, out);
const cpu = process.cpuUsage(cpu0);
console.log(JSON.stringify({ files, ms: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000, rssBefore: before, rssAfter: process.resourceUsage().maxRSS / 1024 }));
`,
);

const server = await startAppRegistryServer({
  dir: corpus,
  org: 'community',
  token: 'basic YmVuY2g6YmVuY2g=',
});
// Asynchronous on purpose: the server answers from this process's event loop.
const timed = async (args) => {
  const res = await promisify(execFile)('/usr/bin/time', ['-f', '%e %U %S %M', ...args], {
    encoding: 'utf8',
    maxBuffer: 64 * 2 ** 20,
  });
  const [wall, user, sys, rssKb] = res.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { wall, cpu: user + sys, rssMb: rssKb / 1024, stdout: res.stdout };
};
const stats = (samples) => {
  const walls = samples.map((s) => s.wall).sort((a, b) => a - b);
  const cpus = samples.map((s) => s.cpu).sort((a, b) => a - b);
  return {
    min: walls[0],
    median: walls[Math.floor(walls.length / 2)],
    max: walls.at(-1),
    cpu: cpus[Math.floor(cpus.length / 2)],
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
/** The CLI's flags for the served org, as every CLI case below gives them. */
const orgFlags = [
  '--appregistry-org',
  'community',
  '--appregistry-endpoint',
  server.url,
  '--auth-token',
  'basic YmVuY2g6YmVuY2g=',
];
if (!downloadOnly && existsSync(cli)) {
  await scenario('CLI: download + DB (`--appregistry-org … --to-db`)', (store, i, phase) => [
    'node',
    cli,
    ...orgFlags,
    '--to-db',
    path.join(tmp, `db-${i}-${phase}.db`),
    '--store',
    store,
    '-q',
  ]);
}

// The builds compared side by side: ours and, with --baseline, the other checkout's; each
// run fills a fresh store once (the download-only child), then every build and mode runs in
// turn on it, so the machine's drift hits them alike.
const abRows = [];
if (!downloadOnly && (unpack || baselineCli) && existsSync(cli)) {
  const builds = [
    { label: 'ours', cli, bundle },
    ...(baselineCli
      ? [
          {
            label: `baseline ${path.basename(baselineArg)}`,
            cli: baselineCli,
            bundle: await bundleOf(path.resolve(baselineArg), 'baseline'),
          },
        ]
      : []),
  ];
  const modes = [
    { label: '`--to-db`', unpack: false },
    ...(unpack ? [{ label: '`--to-db` + `--manifest-dir OUT`', unpack: true }] : []),
  ];
  const samples = new Map();
  const inner = new Map();
  const unpacked = new Map();
  const loads = [];
  for (let i = 0; i < runs; i++) {
    const store = path.join(tmp, `ab-store-${i}`);
    await timed(['node', child, server.url, store]);
    if (unpack)
      for (const b of builds) {
        const out = path.join(tmp, `ab-out-${i}`);
        loads.push(os.loadavg()[0]);
        const s = await timed(['node', unpackChild, b.bundle, server.url, store, out]);
        const r = JSON.parse(s.stdout);
        const key = `${b.label}: unpack alone`;
        inner.set(key, [...(inner.get(key) ?? []), r]);
        samples.set(key, [...(samples.get(key) ?? []), s]);
        rmSync(out, { recursive: true, force: true });
      }
    for (const mode of modes)
      for (const b of builds) {
        const key = `${b.label} ${mode.label}`;
        const out = path.join(tmp, `ab-out-${i}`);
        loads.push(os.loadavg()[0]);
        const s = await timed([
          'node',
          b.cli,
          ...orgFlags,
          '--to-db',
          path.join(tmp, `ab-${i}.db`),
          ...(mode.unpack ? ['--manifest-dir', out] : []),
          '--store',
          store,
          '-q',
        ]);
        samples.set(key, [...(samples.get(key) ?? []), s]);
        if (mode.unpack) {
          // What landed in OUT (paths and contents), so the builds can be seen to agree.
          const digest = execFileSync(
            'bash',
            [
              '-c',
              'cd "$1" && find . -type f | wc -l && find . -type f | LC_ALL=C sort | xargs -d "\\n" sha256sum | sha256sum',
              '-',
              out,
            ],
            { encoding: 'utf8', maxBuffer: 2 ** 20 },
          ).split('\n');
          unpacked.set(key, `${digest[0]} files, contents ${digest[1].slice(0, 12)}`);
          rmSync(out, { recursive: true, force: true });
        }
      }
    rmSync(store, { recursive: true, force: true });
  }
  const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  for (const b of builds) {
    const key = `${b.label}: unpack alone`;
    const rs = inner.get(key);
    if (!rs) continue;
    abRows.push([
      key,
      stats(samples.get(key)),
      `${rs[0].files} files; the unpack itself: ${(med(rs.map((r) => r.ms)) / 1000).toFixed(2)} s wall, ${(med(rs.map((r) => r.cpuMs)) / 1000).toFixed(2)} s CPU (medians), peak RSS ${Math.max(...rs.map((r) => r.rssBefore)).toFixed(0)} MiB before it, ${Math.max(...rs.map((r) => r.rssAfter)).toFixed(0)} MiB after`,
    ]);
  }
  for (const mode of modes)
    for (const b of builds) {
      const key = `${b.label} ${mode.label}`;
      abRows.push([key, stats(samples.get(key)), unpacked.get(key) ?? '']);
    }
  abRows.push([
    `load average (1 min) at each start: ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`,
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
console.log('| run | wall min | wall median | wall max | CPU median | peak RSS | notes |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const [label, s, note] of rows) {
  console.log(
    `| ${label} | ${s.min.toFixed(2)} s | ${s.median.toFixed(2)} s | ${s.max.toFixed(2)} s | ${s.cpu.toFixed(2)} s | ${s.rss.toFixed(0)} MiB | ${note} |`,
  );
}
if (abRows.length) {
  console.log('\nSide by side on a filled store (0 blobs pulled; list, show, check, build):');
  console.log('| build | wall min | wall median | wall max | CPU median | peak RSS | notes |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const [label, s, note] of abRows) {
    if (!s) console.log(`\n${label}`);
    else
      console.log(
        `| ${label} | ${s.min.toFixed(2)} s | ${s.median.toFixed(2)} s | ${s.max.toFixed(2)} s | ${s.cpu.toFixed(2)} s | ${s.rss.toFixed(0)} MiB | ${note} |`,
      );
  }
}
rmSync(tmp, { recursive: true, force: true });
