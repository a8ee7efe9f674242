// Benchmark: wall time and peak RSS of the index build (`catalog-build --manifest-dir DIR
// --index-format F --to-db FILE`, the whole command as a user runs it, node start-up
// included) on the dev corpus and on a synthetic catalog of 10 renamed copies of it, per index
// format. Uses the built CLI (dist/), GNU time for max RSS. Prints a Markdown table for
// docs/BENCHMARKS.md. fbc is written with --to-fbc (its size: the catalog.json files' total).
// Usage: npm run build && node bench/index-build.mjs [RUNS] [FORMATS, default sqlite-v7,sqlite]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const runs = Number(process.argv[2] ?? 7);
const formats = (process.argv[3] ?? 'sqlite-v7,sqlite').split(',');
const root = path.resolve(import.meta.dirname, '..');
const corpus = path.resolve(root, '..', 'shared', 'corpus', 'dev', 'packages');
if (!existsSync(corpus)) {
  console.error(`skipped: ${corpus} is absent`);
  process.exit(0);
}
const tmp = mkdtempSync(path.join(os.tmpdir(), 'bench-index-'));
const synthetic = path.join(tmp, 'synthetic');
execFileSync(
  'node',
  [path.join(root, 'bench/make-synthetic-catalog.mjs'), corpus, synthetic, '10'],
  { stdio: 'inherit' },
);

/** Total bytes of the files under a directory (an FBC written by --to-fbc). */
function treeBytes(dir) {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile()) n += statSync(path.join(e.parentPath ?? e.path, e.name)).size;
  return n;
}

/** One build: wall and CPU (user + system) seconds, peak RSS, DB size. */
function runOnce(dir, format, i) {
  const sqlite = format.startsWith('sqlite');
  const db = path.join(tmp, `out-${i}.db`);
  const fbcDir = path.join(tmp, `fbc-${i}`);
  rmSync(db, { force: true });
  rmSync(fbcDir, { recursive: true, force: true });
  const res = spawnSync(
    '/usr/bin/time',
    [
      '-f',
      '%e %U %S %M',
      'node',
      path.join(root, 'dist/functions/local/main.js'),
      '--manifest-dir',
      dir,
      '--index-format',
      format,
      ...(sqlite ? ['--to-db', db] : format === 'fbc' ? ['--to-fbc', fbcDir] : []),
      '--store',
      path.join(tmp, 'store'),
      '-q',
    ],
    { encoding: 'utf8' },
  );
  if (res.status !== 0) throw new Error(`build failed: ${res.stderr}`);
  const [wall, user, sys, rss] = res.stderr.trim().split('\n').pop().split(' ').map(Number);
  return {
    wall,
    cpu: user + sys,
    rssMb: rss / 1024,
    dbBytes: sqlite ? readFileSync(db).length : format === 'fbc' ? treeBytes(fbcDir) : 0,
  };
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

// Formats alternate run by run, so a machine whose load changes (other sessions share it)
// slows every format alike instead of whichever ran last.
const samples = new Map(
  formats.flatMap((f) => [
    [`${f} dev`, []],
    [`${f} big`, []],
  ]),
);
for (let i = 0; i < runs; i++) {
  for (const f of formats) samples.get(`${f} dev`).push(runOnce(corpus, f, i));
  for (const f of formats) samples.get(`${f} big`).push(runOnce(synthetic, f, i));
}
const results = formats.map((format) => ({
  format,
  dev: summary(samples.get(`${format} dev`)),
  big: summary(samples.get(`${format} big`)),
}));
const cpu = readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? 'unknown';
console.log(
  `machine: ${os.cpus().length} cores, ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}; ${new Date().toISOString().slice(0, 10)}; ${runs} runs each`,
);
console.log(
  '| format | input | wall min | wall median | wall max | CPU median | peak RSS | DB bytes |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const { format, dev, big } of results) {
  for (const [name, r] of [
    ['dev corpus (41 packages, 7.4 MB)', dev],
    ['synthetic 10x (410 packages, 74 MB)', big],
  ]) {
    console.log(
      `| ${format} | ${name} | ${r.min.toFixed(2)} s | ${r.median.toFixed(2)} s | ${r.max.toFixed(2)} s | ${r.cpu.toFixed(2)} s | ${r.rss.toFixed(0)} MB | ${r.db ? r.db.toLocaleString('en') : '–'} |`,
    );
  }
  console.log(
    `<!-- ${format}: 10x input took ${(big.median / dev.median).toFixed(1)}x the time -->`,
  );
}
rmSync(tmp, { recursive: true, force: true });
