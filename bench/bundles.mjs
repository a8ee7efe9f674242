// Bundle benchmark (issue 11): the 473 bundle images of ../shared/corpus/bundles-dev pushed
// to a local docker-registry with skopeo, then `catalog-build --bundles-file … --index-format
// fbc` (pull, parse, catalog, FBC) and `catalog-build --manifest-dir packages --index-format
// fbc` timed with GNU time (wall time, peak RSS of the whole process), each followed by
// compare-fbc against what `opm registry add` + `opm migrate` v1.26.5 wrote. Then the same two
// inputs through the state machine on this machine (`catalog-build pipeline`, a local store):
// a request with the 473 references (ListBundles, 473 FetchBundle iterations in-process, 16 at
// once, BuildIndex) and one with the folders copied under a store prefix (`bundlePrefix`).
// Upstream on this kind of machine: opm registry add 13.9 s / 692 MB, opm render 11.1 s / 205 MB.
// Usage: npm run build && node bench/bundles.mjs [--runs N] [--keep DIR] [--max-per-registry 4,16]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
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
  // skopeo, 8 at a time: the registry is the same for every run, only our build is measured.
  for (let i = 0; i < tags.length; i += 8) {
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
  console.log(
    `pushed ${tags.length} bundle images to ${host} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  const list = path.join(work, 'bundles.txt');
  writeFileSync(list, tags.map((t) => `${host}/${t}\n`).join(''));

  const expected = path.join(corpus, 'expected', 'opm-v1.26.5-registry-add.migrate');
  const cases = [
    ...values['max-per-registry'].split(',').map((n) => ({
      name: `--bundles (473 images from the registry, --max-per-registry ${n})`,
      args: ['--bundles-file', list, '--insecure', '--max-per-registry', n],
      map: true,
    })),
    {
      name: '--manifest-dir (473 bundle folders)',
      args: ['--manifest-dir', path.join(corpus, 'packages')],
      map: false,
    },
  ];
  /** A pipeline case: the request written next to the store, run by `catalog-build pipeline`. */
  const pipeline = (name, body, prepare = () => {}) => ({
    name,
    map: body.bundles !== undefined,
    argv: (store, buildId) => {
      prepare(store);
      const request = path.join(work, `${buildId}.json`);
      writeFileSync(request, JSON.stringify({ ...body, buildId, indexFormat: 'fbc' }));
      return ['pipeline', '--request', request, '--store', store];
    },
  });
  const refs = tags.map((t) => `${host}/${t}`);
  cases.push(
    pipeline('pipeline, bundles (473 FetchBundle iterations)', { bundles: refs, insecure: true }),
    pipeline(
      'pipeline, bundlePrefix (473 bundle folders in the store)',
      { bundlePrefix: 'incoming/operators/' },
      (store) =>
        cpSync(path.join(corpus, 'packages'), path.join(store, 'incoming', 'operators'), {
          recursive: true,
        }),
    ),
  );
  for (const c of cases) {
    for (let run = 0; run < Number(values.runs); run++) {
      const store = path.join(work, `store-${cases.indexOf(c)}-${run}`);
      rmSync(store, { recursive: true, force: true });
      const buildId = `bench-${cases.indexOf(c)}-${run}`;
      const argv = c.argv
        ? c.argv(store, buildId)
        : [...c.args, '--index-format', 'fbc', '--store', store, '--build-id', buildId, '--quiet'];
      const timed = spawnSync(
        '/usr/bin/time',
        ['-f', '%e %U %S %M', process.execPath, cli, ...argv],
        {
          encoding: 'utf8',
        },
      );
      const [secs, user, sys, kb] = timed.stderr.trim().split('\n').at(-1).split(' ');
      const configs = path.join(store, 'builds', buildId, 'configs');
      let verdict = 'not compared';
      if (c.map && existsSync(configs)) {
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
        verdict = r.stdout.trim().split('\n').at(-1);
      } else if (existsSync(configs)) verdict = `${readdirSync(configs).length} package folders`;
      console.log(
        `${c.name}: ${secs} s wall, ${(Number(user) + Number(sys)).toFixed(2)} s CPU (user+sys), peak RSS ${(Number(kb) / 1024).toFixed(0)} MB, exit ${timed.status}, ${verdict}`,
      );
    }
  }
} finally {
  registry.kill('SIGTERM');
  if (!values.keep) rmSync(work, { recursive: true, force: true });
}
execFileSync('true');
