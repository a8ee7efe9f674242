// Scale benchmark of the index build: time, peak RSS and DB size of `catalog-build
// --manifest-dir DIR --to-db FILE` on the dev corpus and on synthetic catalogs of renamed
// copies of it (10x, ~1,000 and ~5,000 packages), against the memory target of issue 14:
// peak RSS ≤ 2 × DB size + 100 MB. Peak RSS is what GNU time reports (the kernel's maxrss of
// the whole process), so it is exact even on a busy machine; wall times are not, so an
// optional baseline build (another checkout's dist/, e.g. main's) runs side by side, input
// by input, and the ratio between the two is what to read.
// CPU time (user + sys) is printed beside wall time, and the load average before and after,
// because on a shared machine wall time says more about the neighbours than about the build.
// Upstream's v1.8.0 initializer (`initializer --permissive -m DIR -o DB`, the tool issue 14's
// targets are ratios of) runs on the same inputs, interleaved with ours, when its binary is
// given by --upstream or UPSTREAM_INITIALIZER (nothing builds or fetches it here); it runs
// --upstream-runs times per input (default 1: at 5,000 packages it takes minutes), and the
// table then shows both tools' t(5000) / t(1000) and ours as a ratio of its time per input.
// Usage: npm run build && node bench/scale.mjs [--sizes dev,10x,25x,1000,5000] [--runs N]
//        [--baseline CHECKOUT_DIR] [--keep DIR] [--upstream INITIALIZER] [--upstream-runs N]
import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: 'dev,10x,25x,1000,5000' },
    runs: { type: 'string', default: '1' },
    baseline: { type: 'string' },
    keep: { type: 'string' },
    upstream: { type: 'string', default: process.env.UPSTREAM_INITIALIZER },
    'upstream-runs': { type: 'string', default: '1' },
  },
});
const root = path.resolve(import.meta.dirname, '..');
const corpus = path.resolve(root, '..', 'shared', 'corpus', 'dev', 'packages');
if (!existsSync(corpus)) {
  console.error(`skipped: ${corpus} is absent`);
  process.exit(0);
}
const work = values.keep
  ? path.resolve(values.keep)
  : mkdtempSync(path.join(os.tmpdir(), 'bench-scale-'));
mkdirSync(work, { recursive: true });
const runs = Number(values.runs);
const upstream = values.upstream ? path.resolve(values.upstream) : undefined;
const upstreamRuns = Number(values['upstream-runs']);
if (!upstream)
  console.error(
    'upstream column skipped: no initializer given (--upstream PATH or UPSTREAM_INITIALIZER=PATH)',
  );
else if (!existsSync(upstream)) {
  console.error(`upstream initializer ${upstream} is absent`);
  process.exit(1);
}

const DEV_PACKAGES = 39;

/** The manifests directory of one size, made once (kept with --keep). */
function catalog(size) {
  if (size === 'dev') return corpus;
  const dir = path.join(work, `synthetic-${size}`);
  if (existsSync(path.join(dir, '.done'))) return dir;
  // N packages: copies of the dev corpus, each loading DEV_PACKAGES packages (2 of its 41
  // package manifests fail to load, as upstream's do).
  const args = size.endsWith('x')
    ? [size.slice(0, -1)]
    : [String(Math.round(Number(size) / DEV_PACKAGES))];
  execFileSync(
    'node',
    [path.join(root, 'bench/make-synthetic-catalog.mjs'), corpus, dir, ...args],
    { stdio: 'inherit' },
  );
  execFileSync('touch', [path.join(dir, '.done')]);
  return dir;
}

function duSize(dir) {
  // The trailing '/' measures a --keep catalog that is a symbolic link to one made earlier.
  return Number(execFileSync('du', ['-sb', `${dir}/`], { encoding: 'utf8' }).split('\t')[0]);
}

// The executable moved from dist/lib/cli to dist/functions/local; a baseline may predate that.
function cliOf(checkout) {
  const now = path.join(checkout, 'dist/functions/local/main.js');
  return existsSync(now) ? now : path.join(checkout, 'dist/lib/cli/main.js');
}

/** One timed run of a command that writes `db`; its figures, or why it failed. */
function timed(command, db, cleanUp = () => {}) {
  const res = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', ...command], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const last = res.stderr.trim().split('\n').pop() ?? '';
  if (res.status !== 0) return { failed: res.stderr.trim().split('\n').slice(-3).join(' / ') };
  const [wall, user, sys, rssKb] = last.split(' ').map(Number);
  const dbBytes = statSync(db).size;
  const packages = Number(
    execFileSync('sqlite3', [db, 'SELECT count(*) FROM package'], { encoding: 'utf8' }).trim(),
  );
  const digest = execFileSync('sha256sum', [db], { encoding: 'utf8' }).split(' ')[0];
  rmSync(db, { force: true });
  cleanUp();
  return { wall, cpu: user + sys, rssMb: rssKb / 1024, dbBytes, packages, digest };
}

function build(checkout, dir, label) {
  const db = path.join(work, `${label}.db`);
  rmSync(db, { force: true });
  // A fresh store per run: with the store of an earlier run of the same input the report
  // would compare the two builds (reading both databases), which is another measurement.
  const store = path.join(work, `store-${label}`);
  rmSync(store, { recursive: true, force: true });
  return timed(
    ['node', cliOf(checkout), '--manifest-dir', dir, '--to-db', db, '--store', store, '-q'],
    db,
    () => rmSync(store, { recursive: true, force: true }),
  );
}

function buildUpstream(dir, label) {
  const db = path.join(work, `${label}.db`);
  rmSync(db, { force: true });
  // The real path: Go's filepath.Walk does not enter a root that is a symbolic link (a --keep
  // catalog may be one), so upstream would load nothing from it.
  return timed([upstream, '--permissive', '-m', realpathSync(dir), '-o', db], db);
}

// GNU time reports KiB, so everything is in MiB (2^20 bytes), the DB size included.
const MB = 2 ** 20;
const rows = [];
const loadBefore = os
  .loadavg()
  .map((l) => l.toFixed(1))
  .join(' ');
for (const size of values.sizes.split(',')) {
  const dir = catalog(size);
  const input = duSize(dir);
  const ours = [];
  const base = [];
  const theirs = [];
  for (let i = 0; i < runs; i++) {
    // Alternate, so all see the same machine load.
    ours.push(build(root, dir, `ours-${size}`));
    if (upstream && i < upstreamRuns) theirs.push(buildUpstream(dir, `upstream-${size}`));
    if (values.baseline) base.push(build(path.resolve(values.baseline), dir, `base-${size}`));
  }
  const summarise = (samples) => {
    const ok = samples.filter((s) => !s.failed);
    if (ok.length === 0) return { failed: samples[0]?.failed };
    ok.sort((a, b) => a.wall - b.wall);
    return {
      ...ok[Math.floor(ok.length / 2)],
      rssMb: Math.max(...ok.map((s) => s.rssMb)),
      digests: new Set(ok.map((s) => s.digest)).size,
    };
  };
  rows.push({
    size,
    input,
    ours: summarise(ours),
    base: values.baseline && summarise(base),
    upstream: upstream && summarise(theirs),
  });
  console.error(`${size}: ${JSON.stringify(rows.at(-1))}`);
}

const cpu = readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? '?';
console.log(
  `machine: ${os.cpus().length} cores, ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}; ${new Date().toISOString().slice(0, 16)}Z; ${runs} run(s) each (median wall and its CPU time, max RSS); load average (1, 5, 15 min) ${loadBefore} before, ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} after`,
);
console.log(
  `| input | packages | manifests | wall | CPU (user + sys) | peak RSS | DB size | 2 × DB + 100 MiB | RSS within |${values.baseline ? ' baseline wall | baseline CPU | baseline RSS | CPU ÷ baseline |' : ''}${upstream ? ' upstream wall | upstream CPU | upstream RSS | upstream packages | ours ÷ upstream (wall, CPU) |' : ''}`,
);
console.log(
  `| --- | --- | --- | --- | --- | --- | --- | --- | --- |${values.baseline ? ' --- | --- | --- | --- |' : ''}${upstream ? ' --- | --- | --- | --- | --- |' : ''}`,
);
for (const { size, input, ours, base, upstream: up } of rows) {
  const cells = ours.failed
    ? [size, '', `${(input / MB).toFixed(0)} MB`, `failed: ${ours.failed}`, '', '', '', '', '']
    : (() => {
        const target = (2 * ours.dbBytes) / MB + 100;
        return [
          size,
          ours.packages.toLocaleString('en'),
          `${(input / MB).toFixed(0)} MiB`,
          `${ours.wall.toFixed(2)} s`,
          `${ours.cpu.toFixed(2)} s`,
          `${ours.rssMb.toFixed(0)} MiB`,
          `${(ours.dbBytes / MB).toFixed(0)} MiB`,
          `${target.toFixed(0)} MiB`,
          ours.rssMb <= target ? 'yes' : 'NO',
        ];
      })();
  if (base) {
    if (base.failed) cells.push(`failed: ${base.failed}`, '', '', '');
    else
      cells.push(
        `${base.wall.toFixed(2)} s`,
        `${base.cpu.toFixed(2)} s`,
        `${base.rssMb.toFixed(0)} MiB`,
        ours.failed ? '' : (ours.cpu / base.cpu).toFixed(2),
      );
  }
  if (up) {
    if (up.failed) cells.push(`failed: ${up.failed}`, '', '', '', '');
    else
      cells.push(
        `${up.wall.toFixed(2)} s`,
        `${up.cpu.toFixed(2)} s`,
        `${up.rssMb.toFixed(0)} MiB`,
        up.packages.toLocaleString('en'),
        ours.failed ? '' : `${(ours.wall / up.wall).toFixed(2)}, ${(ours.cpu / up.cpu).toFixed(2)}`,
      );
  }
  console.log(`| ${cells.join(' | ')} |`);
}
/** t(5000) / t(1000) of one tool's rows, when both sizes ran. */
function scaling(tool, which, target) {
  const t = Object.fromEntries(
    rows.filter((r) => r[which] && !r[which].failed).map((r) => [r.size, r[which]]),
  );
  if (!t['1000'] || !t['5000']) return;
  const pkgs = t['5000'].packages / t['1000'].packages;
  console.log(
    `scaling, ${tool}: t(5000) / t(1000) = ${(t['5000'].wall / t['1000'].wall).toFixed(2)} wall, ${(t['5000'].cpu / t['1000'].cpu).toFixed(2)} CPU, for ${pkgs.toFixed(2)}× the packages${target}`,
  );
}
scaling('ours', 'ours', ' (target ≤ 5.5)');
if (values.baseline) scaling('baseline', 'base', '');
if (upstream) scaling('upstream initializer', 'upstream', '');
if (!values.keep) rmSync(work, { recursive: true, force: true });
