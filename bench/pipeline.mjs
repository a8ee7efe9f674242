// Benchmark: one catalog build of the dev corpus (App Registry server → index → image on
// scratch → local docker-registry), run by `catalog-build pipeline` (the state machine with
// the Lambda handlers, in-process, local directory store) and by the plain CLI, same input.
// Each run starts a fresh process with an empty store ("cold": every blob downloaded, every
// blob uploaded to a fresh repository), then a second run on the same store ("warm").
// Prints a Markdown table for docs/BENCHMARKS.md.
// Usage: node --import tsx bench/pipeline.mjs [RUNS]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { startAppRegistryServer } from '../lib/appregistry/server.ts';
import { startRegistry } from '../test/support/registry-server.ts';
import { CORPUS, HAVE_CORPUS } from '../test/support/shared-corpus.ts';

if (!HAVE_CORPUS) {
  console.error('../shared/corpus/dev is absent: nothing to measure');
  process.exit(2);
}
const runs = Number(process.argv[2] ?? 3);
const root = path.resolve(import.meta.dirname, '..');
const work = mkdtempSync(path.join(os.tmpdir(), 'bench-pipeline-'));
const appRegistry = await startAppRegistryServer({
  dir: path.join(CORPUS, 'packages'),
  org: 'community',
  host: '127.0.0.1',
  port: 0,
});
const registry = await startRegistry({ auth: 'none' });
// Asynchronous on purpose: the App Registry server answers from this very process.
const cli = (args) =>
  new Promise((resolve, reject) => {
    const t = performance.now();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(root, 'functions/local/main.ts'), ...args],
      {
        cwd: root,
        stdio: ['ignore', 'ignore', 'inherit'],
        env: { ...process.env, NODE_OPTIONS: '' },
      },
    );
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(performance.now() - t) : reject(new Error(`${args[0]}: exit ${code}`)),
    );
  });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = { pipeline: { cold: [], warm: [] }, cli: { cold: [], warm: [] } };
try {
  for (let i = 0; i < runs; i++) {
    for (const kind of ['pipeline', 'cli']) {
      const store = path.join(work, `${kind}-${i}`);
      const to = `${registry.host}/bench/${kind}-${i}:v1`;
      const request = path.join(work, `${kind}-${i}.json`);
      writeFileSync(
        request,
        JSON.stringify({
          appRegistry: { endpoint: appRegistry.url, org: 'community' },
          from: 'scratch',
          to,
          insecure: true,
          sourceDateEpoch: 0,
        }),
      );
      const args =
        kind === 'pipeline'
          ? ['pipeline', '--request', request, '--store', store]
          : [
              '--appregistry-org',
              'community',
              '--appregistry-endpoint',
              appRegistry.url,
              '--from',
              'scratch',
              '--to',
              to,
              '--insecure',
              '--store',
              store,
              '-q',
            ];
      results[kind].cold.push(await cli(args));
      results[kind].warm.push(await cli(args));
    }
  }
} finally {
  await appRegistry.stop();
  await registry.stop();
  rmSync(work, { recursive: true, force: true });
}
console.log(
  `Node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}, ${runs} runs, dev corpus (${appRegistry.packages.size} packages), process start + tsx included\n`,
);
console.log('| runner | cold median (s) | warm median (s) |');
console.log('| --- | ---: | ---: |');
for (const [kind, r] of Object.entries(results))
  console.log(
    `| ${kind === 'cli' ? 'catalog-build (CLI)' : 'catalog-build pipeline (ASL + handlers)'} | ${(median(r.cold) / 1000).toFixed(2)} | ${(median(r.warm) / 1000).toFixed(2)} |`,
  );
