// Benchmark: wall time and peak RSS of `catalog-build graph` and `catalog-build diff` on the
// dev corpus (the v1.26.5 FBC in ../shared/corpus/dev/expected and a schema-7 DB built from
// the same manifests), as a user runs them: the built CLI (dist/), node start-up included,
// GNU time for max RSS. Prints a Markdown table for docs/BENCHMARKS.md.
// Usage: npm run build && node bench/diff.mjs [RUNS]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const runs = Number(process.argv[2] ?? 5);
const root = path.resolve(import.meta.dirname, '..');
const dev = path.resolve(root, '..', 'shared', 'corpus', 'dev');
if (!existsSync(dev)) {
  console.error(`skipped: ${dev} is absent`);
  process.exit(0);
}
const cli = path.join(root, 'dist', 'functions', 'local', 'main.js');
const fbc = path.join(dev, 'expected', 'opm-v1.26.5-migrate.packages');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'bench-diff-'));
const db = path.join(tmp, 'dev.db');
execFileSync('node', [
  cli,
  '--manifest-dir',
  path.join(dev, 'packages'),
  '--to-db',
  db,
  '--store',
  path.join(tmp, 'store'),
  '-q',
]);

function measure(args) {
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const timeFile = path.join(tmp, 'time.txt');
    const start = process.hrtime.bigint();
    const r = spawnSync('/usr/bin/time', ['-f', '%M', '-o', timeFile, 'node', cli, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (r.status !== 0 && r.status !== 3)
      throw new Error(`${args.join(' ')}: exit ${r.status} ${r.stderr}`);
    samples.push({ ms, rssKb: Number(readFileSync(timeFile, 'utf8').trim().split('\n').at(-1)) });
  }
  samples.sort((a, b) => a.ms - b.ms);
  return {
    min: samples[0].ms,
    median: samples[Math.floor(samples.length / 2)].ms,
    max: samples.at(-1).ms,
    rssMb: Math.max(...samples.map((s) => s.rssKb)) / 1024,
  };
}

const cases = [
  ['graph FBC dir (40 packages)', ['graph', fbc]],
  ['graph schema-7 DB', ['graph', db]],
  ['diff FBC dir vs itself', ['diff', fbc, fbc]],
  ['diff schema-7 DB vs FBC dir', ['diff', db, fbc]],
  ['node -e "" (start-up only)', null],
];
console.log(
  `machine: ${os.cpus().length} cores, ${os.cpus()[0]?.model}, node ${process.version}; ${new Date().toISOString().slice(0, 10)}; ${runs} runs each`,
);
console.log('| command | wall min (ms) | median | max | peak RSS (MB) |');
console.log('| --- | --- | --- | --- | --- |');
for (const [name, args] of cases) {
  let m;
  if (args) m = measure(args);
  else {
    const start = process.hrtime.bigint();
    for (let i = 0; i < runs; i++) execFileSync('node', ['-e', '']);
    const ms = Number(process.hrtime.bigint() - start) / 1e6 / runs;
    m = { min: ms, median: ms, max: ms, rssMb: Number.NaN };
  }
  console.log(
    `| ${name} | ${m.min.toFixed(0)} | ${m.median.toFixed(0)} | ${m.max.toFixed(0)} | ${Number.isNaN(m.rssMb) ? '—' : m.rssMb.toFixed(0)} |`,
  );
}
rmSync(tmp, { recursive: true, force: true });
