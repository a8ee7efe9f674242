// Benchmark: the Lambda artifacts `serverless package` produces. For each function: zipped
// size (budget 3 MB) and module init time, i.e. loading the bundled handler file in a fresh
// Node process, as a Lambda cold start does before the first event (budget 300 ms).
// Prints a Markdown table for docs/BENCHMARKS.md.
// Usage: node bench/lambda-bundles.mjs [RUNS]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const runs = Number(process.argv[2] ?? 7);
const root = path.resolve(import.meta.dirname, '..');
const out = mkdtempSync(path.join(os.tmpdir(), 'bench-lambda-'));
const env = { ...process.env, SLS_TELEMETRY_DISABLED: '1', HOME: out };
for (const k of Object.keys(env)) if (k.startsWith('AWS_')) delete env[k];
execFileSync(
  path.join(root, 'node_modules', '.bin', 'serverless'),
  ['package', '--stage', 'bench', '--package', path.join(out, 'pkg')],
  { cwd: root, env, stdio: 'ignore' },
);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = [];
for (const zip of readdirSync(path.join(out, 'pkg'))
  .filter((f) => f.endsWith('.zip'))
  .sort()) {
  const fn = zip.replace(/\.zip$/, '');
  const dir = path.join(out, fn);
  execFileSync('unzip', ['-q', path.join(out, 'pkg', zip), '-d', dir]);
  const handlerFile = readdirSync(path.join(dir, 'functions')).find((f) => f.endsWith('.js'));
  const probe = `const t=performance.now();const m=require(${JSON.stringify(path.join(dir, 'functions', handlerFile))});if(typeof m.handler!=='function')process.exit(3);process.stdout.write(String(performance.now()-t))`;
  const times = [];
  for (let i = 0; i < runs; i++) {
    const ms = execFileSync(process.execPath, ['-e', probe], {
      cwd: dir,
      env: {
        PATH: process.env.PATH,
        BUCKET: 'bench',
        AWS_REGION: 'us-east-1',
        POWERTOOLS_LOG_LEVEL: 'SILENT',
      },
      encoding: 'utf8',
    });
    times.push(Number(ms));
  }
  const unzipped = execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0];
  rows.push(
    `| ${fn} | ${(statSync(path.join(out, 'pkg', zip)).size / 1024 / 1024).toFixed(2)} | ${(Number(unzipped) / 1024 / 1024).toFixed(2)} | ${median(times).toFixed(0)} | ${Math.max(...times).toFixed(0)} |`,
  );
}
rmSync(out, { recursive: true, force: true });
console.log(
  `Node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}, ${runs} runs per function\n`,
);
console.log(
  '| function | zip (MB) | unzipped incl. source map (MB) | init median (ms) | init max (ms) |',
);
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const r of rows) console.log(r);
