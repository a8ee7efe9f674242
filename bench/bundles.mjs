// Bundle benchmark (issue 11): the 473 bundle images of ../shared/corpus/bundles-dev pushed
// to a local docker-registry with skopeo, then `catalog-build --bundles-file … --index-format
// fbc --to-fbc OUT` (pull, parse, catalog, FBC) and `catalog-build --manifest-dir packages
// --index-format fbc --to-fbc OUT` timed with GNU time (wall time, CPU user+sys, peak RSS of the
// whole process), the --bundles output compared (compare-fbc) with what `opm registry add` +
// `opm migrate` v1.26.5 wrote. The issue's target is a ratio against upstream (under half of
// `opm registry add`'s time and memory), and this machine's speed drifts within hours, so
// upstream runs beside ours, interleaved, on the same registry: with an opm binary (--opm PATH
// or UPSTREAM_OPM; never built or fetched by this script) each run also times `opm registry add
// -b REF,… -d OUT.db --container-tool none --use-http` and `opm render REF… -o json
// --use-http`, and the summary gives ours ÷ theirs. (`opm render` v1.26.5 reads directories as
// file-based catalogs, not bundle folders, so --manifest-dir has no upstream twin.) With
// --baseline CHECKOUT (another checkout with dist/ built, e.g. main) its CLI runs beside ours
// too, for A/B. Then, unless --skip-pipeline, the same two inputs through the state machine
// (`catalog-build pipeline`, a local store): a request with the 473 references (ListBundles,
// 473 FetchBundle iterations in-process, 16 at once, BuildIndex) and one with the folders
// copied under a store prefix (`bundlePrefix`).
// Usage: npm run build && [UPSTREAM_OPM=PATH] node bench/bundles.mjs [--runs N] [--keep DIR]
//        [--max-per-registry 4,16] [--opm PATH] [--baseline CHECKOUT] [--skip-pipeline]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '1' },
    keep: { type: 'string' },
    // --bundles runs with each of these --max-per-registry values (e.g. 4,8,16).
    'max-per-registry': { type: 'string', default: '4' },
    opm: { type: 'string' },
    baseline: { type: 'string' },
    'skip-pipeline': { type: 'boolean', default: false },
  },
});
const root = path.resolve(import.meta.dirname, '..');
const corpus = path.resolve(root, '..', 'shared', 'corpus', 'bundles-dev');
if (!existsSync(path.join(corpus, 'images', 'index.json'))) {
  console.error(`skipped: ${corpus} is absent`);
  process.exit(0);
}
const work = values.keep
  ? path.resolve(values.keep)
  : mkdtempSync(path.join(os.tmpdir(), 'bench-bundles-'));
mkdirSync(work, { recursive: true });
const cli = path.join(root, 'dist', 'functions', 'local', 'main.js');
const opm = values.opm ?? process.env.UPSTREAM_OPM;
if (!opm)
  console.log(
    'upstream column skipped: no opm binary given (--opm PATH or UPSTREAM_OPM=PATH, operator-registry v1.26.5)',
  );
else if (!existsSync(opm)) {
  console.error(`no opm binary at ${opm}`);
  process.exit(2);
}
const baseline = values.baseline
  ? path.join(path.resolve(values.baseline), 'dist', 'functions', 'local', 'main.js')
  : undefined;
if (baseline && !existsSync(baseline)) {
  console.error(`no built baseline at ${baseline} (npm run build there)`);
  process.exit(2);
}
const compare = path.resolve(root, '..', 'shared', 'tools', 'compare-fbc');

function freePort() {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const port = await freePort();
const host = `127.0.0.1:${port}`;
const config = path.join(work, 'registry.yml');
writeFileSync(
  config,
  [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${JSON.stringify(path.join(work, 'registry'))}`,
    'http:',
    '  secret: bench-not-a-credential',
    '',
  ].join('\n'),
);
const registry = spawn('docker-registry', ['serve', config], {
  env: { ...process.env, REGISTRY_HTTP_ADDR: host, OTEL_TRACES_EXPORTER: 'none' },
  stdio: 'ignore',
});
for (let i = 0; i < 100; i++) {
  try {
    const res = await fetch(`http://${host}/v2/`);
    if (res.ok) break;
  } catch {
    await new Promise((r) => setTimeout(r, 100));
  }
}

try {
  const tags = JSON.parse(readFileSync(path.join(corpus, 'images', 'index.json'), 'utf8'))
    .manifests.map((m) => m.annotations['org.opencontainers.image.ref.name'])
    .sort();
  const started = Date.now();
  // With --keep, a registry pushed by an earlier run is used again (its storage is kept).
  const pushed = path.join(work, 'registry', '.pushed');
  // skopeo, 8 at a time: the registry is the same for every run, only our build is measured.
  for (let i = 0; i < tags.length && !existsSync(pushed); i += 8) {
    await Promise.all(
      tags.slice(i, i + 8).map(
        (tag) =>
          new Promise((resolve, reject) => {
            const p = spawn(
              'skopeo',
              [
                'copy',
                '--dest-tls-verify=false',
                `oci:${path.join(corpus, 'images')}:${tag}`,
                `docker://${host}/${tag}`,
              ],
              { stdio: 'ignore' },
            );
            p.on('exit', (code) =>
              code === 0 ? resolve() : reject(new Error(`skopeo ${tag}: ${code}`)),
            );
          }),
      ),
    );
  }
  if (existsSync(pushed)) console.log(`bundle images pushed by an earlier run (${work})`);
  else {
    writeFileSync(pushed, '');
    console.log(
      `pushed ${tags.length} bundle images to ${host} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  }
  const list = path.join(work, 'bundles.txt');
  writeFileSync(list, tags.map((t) => `${host}/${t}\n`).join(''));

  const refs = tags.map((t) => `${host}/${t}`);
  const expected = path.join(corpus, 'expected', 'opm-v1.26.5-registry-add.migrate');
  const renderExpected = path.join(corpus, 'expected', 'opm-v1.26.5-render.json');
  const countRendered = (file) =>
    (readFileSync(file, 'utf8').match(/"schema": "olm\.bundle"/g) ?? []).length;
  const compareFbc = (configs) => {
    const r = spawnSync(
      'python3',
      [
        compare,
        '--map-image',
        `bundles.example/=${host}/`,
        '--skip-package',
        'mercury-operator',
        expected,
        configs,
      ],
      { encoding: 'utf8' },
    );
    return r.stdout.trim().split('\n').at(-1);
  };
  /** A catalog-build case (ours, or the baseline checkout's): --to-fbc into a fresh folder. */
  /** `ours`: the case whose output this one's must equal byte for byte (the baseline's pair). */
  const build = (name, entry, args, map, ours) => ({
    name,
    prepare(id) {
      const out = path.join(work, `fbc-${id}`);
      this.out = out;
      // Same run, same registry address: the pair ran just before, its output is still there.
      const pair = ours?.out;
      const store = path.join(work, `store-${id}`);
      for (const d of [out, store]) rmSync(d, { recursive: true, force: true });
      return {
        argv: [
          process.execPath,
          entry,
          ...args,
          '--index-format',
          'fbc',
          '--to-fbc',
          out,
          '--store',
          store,
          '--build-id',
          id,
          '--quiet',
        ],
        check: () => {
          if (!existsSync(out)) return 'no output';
          const verdict = map ? compareFbc(out) : `${readdirSync(out).length} package folders`;
          if (!pair) return verdict;
          const same = spawnSync('diff', ['-r', '-q', pair, out]).status === 0;
          return `${verdict}, ${same ? 'byte-identical to ours' : 'DIFFERS from ours'}`;
        },
      };
    },
  });
  const cases = [];
  /** Ours, then the baseline's twin of it (its output compared with ours). */
  const pair = (label, args, map) => {
    const ours = build(`ours ${label}`, cli, args, map);
    cases.push(ours);
    if (baseline) cases.push(build(`baseline ${label}`, baseline, args, map, ours));
  };
  for (const n of values['max-per-registry'].split(','))
    pair(
      `--bundles (473 images, --max-per-registry ${n})`,
      ['--bundles-file', list, '--insecure', '--max-per-registry', n],
      true,
    );
  if (opm) {
    cases.push({
      name: 'opm registry add (473 images)',
      prepare: (id) => {
        const cwd = path.join(work, `opm-${id}`);
        rmSync(cwd, { recursive: true, force: true });
        mkdirSync(cwd);
        const db = path.join(cwd, 'index.db');
        const argv = [opm, 'registry', 'add', '-b', refs.join(','), '-d', db];
        argv.push('--container-tool', 'none', '--use-http');
        return {
          argv,
          cwd,
          // It exits 1 on this corpus whatever happens (mercury-operator: "unable to determine
          // default channel", or prune errors, by Go map order; see the corpus README) after
          // adding every other bundle, so 1 with a database is a finished run.
          okStatus: [0, 1],
          check: () => {
            const r = spawnSync(
              'python3',
              [
                '-c',
                'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from operatorbundle").fetchone()[0])',
                db,
              ],
              { encoding: 'utf8' },
            );
            return `${r.stdout.trim() || '?'} rows in operatorbundle`;
          },
        };
      },
    });
    cases.push({
      name: 'opm render (473 images) -o json',
      prepare: (id) => {
        const out = path.join(work, `render-${id}.json`);
        return {
          argv: [opm, 'render', ...refs, '-o', 'json', '--use-http'],
          stdout: out,
          check: () =>
            `${countRendered(out)} olm.bundle objects (expected ${countRendered(renderExpected)})`,
        };
      },
    });
  }
  pair(
    '--manifest-dir (473 bundle folders)',
    ['--manifest-dir', path.join(corpus, 'packages')],
    false,
  );
  /** A pipeline case: the request written next to the store, run by `catalog-build pipeline`. */
  const pipeline = (name, body, setup = () => {}) => ({
    name,
    prepare: (id) => {
      const store = path.join(work, `store-${id}`);
      rmSync(store, { recursive: true, force: true });
      setup(store);
      const request = path.join(work, `${id}.json`);
      writeFileSync(request, JSON.stringify({ ...body, buildId: id, indexFormat: 'fbc' }));
      const configs = path.join(store, 'builds', id, 'configs');
      return {
        argv: [process.execPath, cli, 'pipeline', '--request', request, '--store', store],
        check: () =>
          !existsSync(configs)
            ? 'no output'
            : body.bundles
              ? compareFbc(configs)
              : `${readdirSync(configs).length} package folders`,
      };
    },
  });
  const later = values['skip-pipeline']
    ? []
    : [
        pipeline('pipeline, bundles (473 FetchBundle iterations)', {
          bundles: refs,
          insecure: true,
        }),
        pipeline(
          'pipeline, bundlePrefix (473 bundle folders in the store)',
          { bundlePrefix: 'incoming/operators/' },
          (store) =>
            cpSync(path.join(corpus, 'packages'), path.join(store, 'incoming', 'operators'), {
              recursive: true,
            }),
        ),
      ];
  const loadavg = () =>
    os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' / ');
  console.log(
    `machine: ${os.cpus().length} cores, ${os.cpus()[0]?.model}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}; ${new Date().toISOString()}; load ${loadavg()}`,
  );
  const results = new Map();
  const time = (c, id) => {
    const { argv, cwd, stdout, check, okStatus = [0] } = c.prepare(id);
    const out = stdout ? openSync(stdout, 'w') : 'ignore';
    const timed = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', ...argv], {
      encoding: 'utf8',
      cwd: cwd ?? work,
      stdio: ['ignore', out, 'pipe'],
      maxBuffer: 64 * 2 ** 20,
    });
    if (stdout) closeSync(out);
    const [wall, user, sys, kb] = timed.stderr.trim().split('\n').at(-1).split(' ').map(Number);
    const row = { wall, cpu: user + sys, mb: kb / 1024 };
    const ok = okStatus.includes(timed.status);
    if (ok) {
      if (!results.has(c.name)) results.set(c.name, []);
      results.get(c.name).push(row);
    }
    console.log(
      `${c.name}: ${wall.toFixed(2)} s wall, ${row.cpu.toFixed(2)} s CPU (user+sys), peak RSS ${row.mb.toFixed(0)} MB, exit ${timed.status}, ${check()}${ok ? '' : `\n${timed.stderr.trim().split('\n').slice(-5).join('\n')}`}`,
    );
  };
  // Interleaved: every case once per run, so drift and other load fall on all of them alike.
  for (let run = 0; run < Number(values.runs); run++)
    for (const [i, c] of cases.entries()) time(c, `bench-${i}-${run}`);
  for (let run = 0; run < Number(values.runs); run++)
    for (const [i, c] of later.entries()) time(c, `bench-p${i}-${run}`);
  console.log(`load at the end: ${loadavg()}`);

  const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const summary = new Map(
    [...results].map(([name, rows]) => [
      name,
      {
        wall: median(rows.map((r) => r.wall)),
        cpu: median(rows.map((r) => r.cpu)),
        mb: median(rows.map((r) => r.mb)),
      },
    ]),
  );
  const upstream = ['opm registry add (473 images)', 'opm render (473 images) -o json'].filter(
    (n) => summary.has(n),
  );
  const ratio = (a, b) => (a / b).toFixed(2);
  console.log(
    `\nmedians of ${values.runs} run(s)${upstream.length ? '; ratios are ours ÷ upstream (wall / CPU / RSS)' : ''}:`,
  );
  for (const [name, m] of summary) {
    const vs = name.includes('--bundles')
      ? upstream.map((u) => {
          const o = summary.get(u);
          return `÷ ${u.split(' (')[0]}: ${ratio(m.wall, o.wall)} / ${ratio(m.cpu, o.cpu)} / ${ratio(m.mb, o.mb)}`;
        })
      : [];
    console.log(
      `| ${name} | ${m.wall.toFixed(2)} s | ${m.cpu.toFixed(2)} s | ${m.mb.toFixed(0)} MB |${vs.length ? ` ${vs.join('; ')} |` : ''}`,
    );
  }
} finally {
  registry.kill('SIGTERM');
  if (!values.keep) rmSync(work, { recursive: true, force: true });
}
execFileSync('true');
