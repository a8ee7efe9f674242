// Benchmark: wall time and peak RSS of the index build (`catalog-build --manifest-dir DIR
// --index-format F --to-db FILE`, the whole command as a user runs it, node start-up
// included) on the dev corpus and on a synthetic catalog of 10 renamed copies of it, per index
// format. Uses the built CLI (dist/), GNU time for max RSS. Prints a Markdown table for
// docs/BENCHMARKS.md. fbc is written with --to-fbc (its size: the catalog.json files' total).
// The speed target of issue 14 is a ratio to upstream's v1.8.0 initializer, and this machine's
// speed drifts by ~30 % within hours, so the upstream binary (given by --upstream or the env
// UPSTREAM_INITIALIZER; never committed) runs in the same loop, interleaved with ours on the
// same input, and the ratio of the medians is printed. --baseline CHECKOUT runs another
// checkout's dist/ the same way, for A/B measurements of a change.
// Usage: npm run build && node bench/index-build.mjs [RUNS] [FORMATS, default sqlite-v7,sqlite]
//        [--upstream INITIALIZER] [--baseline CHECKOUT] [--inputs dev,10x]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    upstream: { type: 'string', default: process.env.UPSTREAM_INITIALIZER },
    baseline: { type: 'string' },
    inputs: { type: 'string', default: 'dev,10x' },
  },
});
const runs = Number(positionals[0] ?? 7);
const formats = (positionals[1] ?? 'sqlite-v7,sqlite').split(',');
const inputs = values.inputs.split(',');
for (const i of inputs) if (i !== 'dev' && i !== '10x') throw new Error(`unknown input ${i}`);
const upstream = values.upstream ? path.resolve(values.upstream) : undefined;
if (upstream && !existsSync(upstream)) throw new Error(`--upstream ${upstream}: no such file`);
if (!upstream)
  console.error(
    'upstream column skipped: pass --upstream PATH or set UPSTREAM_INITIALIZER to an operator-registry v1.8.0 initializer binary',
  );
const baseline = values.baseline ? path.resolve(values.baseline) : undefined;
const root = path.resolve(import.meta.dirname, '..');
const corpus = path.resolve(root, '..', 'shared', 'corpus', 'dev', 'packages');
if (!existsSync(corpus)) {
  console.error(`skipped: ${corpus} is absent`);
  process.exit(0);
}
const tmp = mkdtempSync(path.join(os.tmpdir(), 'bench-index-'));
const synthetic = path.join(tmp, 'synthetic');
if (inputs.includes('10x'))
  execFileSync(
    'node',
    [path.join(root, 'bench/make-synthetic-catalog.mjs'), corpus, synthetic, '10'],
    { stdio: 'inherit' },
  );
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const loadBefore = load();

/** Total bytes of the files under a directory (an FBC written by --to-fbc). */
function treeBytes(dir) {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile()) n += statSync(path.join(e.parentPath ?? e.path, e.name)).size;
  return n;
}

/** GNU time's last line (`%e %U %S %M`) of a finished command: wall, CPU, peak RSS. */
function timed(argv) {
  const res = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', ...argv], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`build failed: ${res.stderr}`);
  const [wall, user, sys, rss] = res.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { wall, user, sys, rss };
}

/** One build: wall and CPU (user + system) seconds, peak RSS, DB size. */
function runOnce(dir, format, i, checkout = root) {
  const sqlite = format.startsWith('sqlite');
  const db = path.join(tmp, `out-${i}.db`);
  const fbcDir = path.join(tmp, `fbc-${i}`);
  rmSync(db, { force: true });
  rmSync(fbcDir, { recursive: true, force: true });
  // A fresh store per run: with an earlier run's store the report would compare the two
  // builds (reading both databases), which is another measurement.
  const store = path.join(tmp, 'store');
  rmSync(store, { recursive: true, force: true });
  const { wall, user, sys, rss } = timed([
    'node',
    path.join(checkout, 'dist/functions/local/main.js'),
    '--manifest-dir',
    dir,
    '--index-format',
    format,
    ...(sqlite ? ['--to-db', db] : format === 'fbc' ? ['--to-fbc', fbcDir] : []),
    '--store',
    store,
    '-q',
  ]);
  return {
    wall,
    cpu: user + sys,
    rssMb: rss / 1024,
    dbBytes: sqlite ? statSync(db).size : format === 'fbc' ? treeBytes(fbcDir) : 0,
  };
}

/** One run of the upstream initializer on the same input (its log goes to stderr, ignored). */
function runUpstream(dir, i) {
  const db = path.join(tmp, `upstream-${i}.db`);
  rmSync(db, { force: true });
  const { wall, user, sys, rss } = timed([upstream, '--permissive', '-m', dir, '-o', db]);
  return { wall, cpu: user + sys, rssMb: rss / 1024, dbBytes: statSync(db).size };
}

function summary(samples) {
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const walls = samples.map((s) => s.wall);
  return {
    min: Math.min(...walls),
    median: median(walls),
    max: Math.max(...walls),
    cpu: median(samples.map((s) => s.cpu)),
    rss: Math.max(...samples.map((s) => s.rssMb)),
    db: samples[0].dbBytes,
  };
}

// Formats alternate run by run, and the upstream initializer and the baseline run between
// them on the same input, so a machine whose load changes (other sessions share it) slows
// every column alike instead of whichever ran last.
const dirs = { dev: corpus, '10x': synthetic };
const columns = [
  ...formats.map((f) => ({ label: f, run: (dir, i) => runOnce(dir, f, i) })),
  ...(upstream ? [{ label: 'upstream v1.8.0 initializer', run: runUpstream }] : []),
  ...(baseline
    ? formats.map((f) => ({
        label: `${f} (baseline ${path.basename(baseline)})`,
        run: (dir, i) => runOnce(dir, f, i, baseline),
      }))
    : []),
];
const samples = new Map(columns.flatMap((c) => inputs.map((input) => [`${c.label} ${input}`, []])));
for (let i = 0; i < runs; i++)
  for (const input of inputs)
    for (const c of columns) samples.get(`${c.label} ${input}`).push(c.run(dirs[input], i));
const cpu = readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? 'unknown';
console.log(
  `machine: ${os.cpus().length} cores, ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}; ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; ${runs} runs each; load average ${loadBefore} before, ${load()} after`,
);
console.log(
  '| format | input | wall min | wall median | wall max | CPU median | peak RSS | DB bytes |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
const names = {
  dev: 'dev corpus (41 packages, 7.4 MB)',
  '10x': 'synthetic 10x (410 packages, 74 MB)',
};
const results = new Map();
for (const c of columns) {
  for (const input of inputs) {
    const r = summary(samples.get(`${c.label} ${input}`));
    results.set(`${c.label} ${input}`, r);
    console.log(
      `| ${c.label} | ${names[input]} | ${r.min.toFixed(2)} s | ${r.median.toFixed(2)} s | ${r.max.toFixed(2)} s | ${r.cpu.toFixed(2)} s | ${r.rss.toFixed(0)} MB | ${r.db ? r.db.toLocaleString('en') : '–'} |`,
    );
  }
  if (inputs.length === 2 && formats.includes(c.label)) {
    const dev = results.get(`${c.label} dev`);
    const big = results.get(`${c.label} 10x`);
    console.log(
      `<!-- ${c.label}: 10x input took ${(big.median / dev.median).toFixed(1)}x the time -->`,
    );
  }
}
// Ratios of medians, side by side in this run: against upstream (the target is
// ≤ 0.3 of its wall time) and against the baseline checkout.
const ratio = (a, b, key) => (a[key] / b[key]).toFixed(2);
for (const input of inputs) {
  for (const f of formats) {
    const ours = results.get(`${f} ${input}`);
    const against = [
      ...(upstream ? [['upstream', results.get(`upstream v1.8.0 initializer ${input}`)]] : []),
      ...(baseline
        ? [['baseline', results.get(`${f} (baseline ${path.basename(baseline)}) ${input}`)]]
        : []),
    ];
    for (const [name, other] of against)
      console.log(
        `ratio ${f} / ${name}, ${input}: wall ${ratio(ours, other, 'median')}, CPU ${ratio(ours, other, 'cpu')}, peak RSS ${ratio(ours, other, 'rss')}`,
      );
  }
}
rmSync(tmp, { recursive: true, force: true });
