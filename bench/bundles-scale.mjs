// Today's public catalog, synthetically (issue 14, item 5): 15 renamed copies of the bundle
// corpus (../shared/corpus/bundles-dev/packages, 473 bundles: ≈ 7,100 bundle folders), one
// bundle's CSV cut in half (--malformed), built in ONE run with `catalog-build --manifest-dir
// DIR --index-format fbc --to-fbc OUT` (and `--index-format sqlite --to-db` with --sqlite).
// GNU time gives wall, CPU (user + sys) and peak RSS of the whole process; wall times depend
// on the machine's load (printed), CPU time and peak RSS much less. The run must name the
// malformed bundle in a warning and build the rest. An optional baseline checkout (its dist/)
// runs the same input for comparison. Upstream on this kind of machine, for the real 7,019-
// bundle community catalog: opm render 6.8 GB; opm registry add in one call: out of memory at
// 23.5 GB; nothing at all when one bundle is malformed.
// Usage: npm run build && node bench/bundles-scale.mjs [--copies 15] [--sqlite]
//        [--baseline CHECKOUT_DIR] [--keep DIR]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    copies: { type: 'string', default: '15' },
    sqlite: { type: 'boolean', default: false },
    baseline: { type: 'string' },
    keep: { type: 'string' },
  },
});
const root = path.resolve(import.meta.dirname, '..');
const corpus = path.resolve(root, '..', 'shared', 'corpus', 'bundles-dev', 'packages');
if (!existsSync(corpus)) {
  console.error(`skipped: ${corpus} is absent`);
  process.exit(0);
}
const work = values.keep
  ? path.resolve(values.keep)
  : mkdtempSync(path.join(os.tmpdir(), 'bench-bundles-scale-'));
mkdirSync(work, { recursive: true });

const input = path.join(work, `bundles-${values.copies}x`);
let made = '';
if (!existsSync(path.join(input, '.done'))) {
  made = execFileSync(
    'node',
    [
      path.join(root, 'bench/make-synthetic-catalog.mjs'),
      corpus,
      input,
      values.copies,
      '--malformed',
    ],
    { encoding: 'utf8' },
  );
  execFileSync('touch', [path.join(input, '.done')]);
  console.error(made.trim());
}
const countBundles = (dir, depth = 0) =>
  readdirSync(dir, { withFileTypes: true }).reduce((n, e) => {
    if (!e.isDirectory()) return n;
    if (
      e.name === 'metadata' &&
      existsSync(path.join(dir, e.name, 'annotations.yaml')) &&
      depth === 3
    )
      return n + 1;
    return n + countBundles(path.join(dir, e.name), depth + 1);
  }, 0);
const bundleFolders = countBundles(input);

const duMb = (p) =>
  Number(execFileSync('du', ['-sb', p], { encoding: 'utf8' }).split('\t')[0]) / 2 ** 20;

function run(checkout, format, label) {
  const out = path.join(work, `${label}-${format}`);
  const store = path.join(work, `${label}-store`);
  rmSync(out, { recursive: true, force: true });
  rmSync(store, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const target =
    format === 'fbc'
      ? ['--index-format', 'fbc', '--to-fbc', path.join(out, 'configs')]
      : ['--index-format', format, '--to-db', path.join(out, 'bundles.db')];
  const load = os.loadavg()[0];
  const res = spawnSync(
    '/usr/bin/time',
    [
      '-f',
      '%e %U %S %M',
      'node',
      path.join(checkout, 'dist/functions/local/main.js'),
      '--manifest-dir',
      input,
      ...target,
      '--store',
      store,
      '--build-id',
      'bench',
    ],
    { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 },
  );
  const last = res.stderr.trim().split('\n').pop() ?? '';
  const [wall, user, sys, rssKb] = last.split(' ').map(Number);
  const warned = /reading bundle copy\d+\/[^ ]+: no csv in bundle/.test(res.stderr);
  const output =
    format === 'fbc' ? duMb(out) + duMb(path.join(store, 'builds', 'bench', 'cache')) : duMb(out);
  const result = {
    label,
    format,
    status: res.status,
    wall,
    cpu: user + sys,
    rssMb: rssKb / 1024,
    outputMb: output,
    warned,
    load: `${load.toFixed(1)}–${os.loadavg()[0].toFixed(1)}`,
  };
  rmSync(out, { recursive: true, force: true });
  rmSync(store, { recursive: true, force: true });
  return result;
}

const rows = [];
for (const format of values.sqlite ? ['fbc', 'sqlite'] : ['fbc']) {
  rows.push(run(root, format, 'ours'));
  console.error(JSON.stringify(rows.at(-1)));
  if (values.baseline) {
    rows.push(run(path.resolve(values.baseline), format, 'baseline'));
    console.error(JSON.stringify(rows.at(-1)));
  }
}

const cpu = readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? '?';
console.log(
  `machine: ${os.cpus().length} cores, ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}; ${new Date().toISOString().slice(0, 16)}Z; input ${bundleFolders.toLocaleString('en')} bundle folders, ${duMb(input).toFixed(0)} MiB, one malformed`,
);
console.log(
  '| build | format | exit | wall | CPU (user+sys) | peak RSS | output | malformed bundle named | load avg (1 min, start–end) |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows)
  console.log(
    `| ${r.label} | ${r.format} | ${r.status} | ${r.wall.toFixed(0)} s | ${r.cpu.toFixed(0)} s | ${r.rssMb.toFixed(0)} MiB | ${r.outputMb.toFixed(0)} MiB | ${r.warned ? 'yes' : 'NO'} | ${r.load} |`,
  );
if (!values.keep) rmSync(work, { recursive: true, force: true });
