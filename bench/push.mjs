// Benchmark: pushing a catalog image with a ~30 MB DB to a local docker-registry, our
// push-image stage vs `skopeo copy` of the very same image from an OCI layout, in one run.
// Every run pushes to a fresh registry, so both sides upload every blob (layer, config,
// manifest); the base is scratch so the DB layer is the whole payload. Ours is timed in-process
// (stage call, client set-up included); skopeo's time includes its process start, shown
// separately. Prints a Markdown table for docs/BENCHMARKS.md.
// Usage: node bench/push.mjs [RUNS] [DB_MB] [text|random]  (random: incompressible, the worst case)
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { build } from 'esbuild';

const runs = Number(process.argv[2] ?? 5);
const dbMb = Number(process.argv[3] ?? 30);
const payload = process.argv[4] ?? 'text';
const root = path.resolve(import.meta.dirname, '..');

// Bundle the stages from source into node_modules/.cache so bare imports resolve from the repo.
const outDir = path.join(root, 'node_modules', '.cache', 'bench-push');
mkdirSync(outDir, { recursive: true });
const entry = path.join(outDir, 'entry.mjs');
await build({
  stdin: {
    contents: [
      "export { assembleImage } from './lib/stages/assemble-image.ts';",
      "export { pushImage } from './lib/stages/push-image.ts';",
      "export { LocalDirStore } from './lib/store/local-dir-store.ts';",
      "export { silentLogger } from './lib/stages/types.ts';",
    ].join('\n'),
    resolveDir: root,
    loader: 'ts',
  },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  outfile: entry,
  logLevel: 'warning',
});
const { assembleImage, pushImage, LocalDirStore, silentLogger } = await import(entry);

const tmp = mkdtempSync(path.join(os.tmpdir(), 'bench-push-'));
let runSeq = 0;
/** A fresh docker-registry (new port, empty storage) so no run can reuse another run's blobs. */
async function startRegistry() {
  const port = await new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const p = srv.address().port;
      srv.close(() => resolve(p));
    });
  });
  const host = `127.0.0.1:${port}`;
  const conf = path.join(tmp, `registry-${++runSeq}.yml`);
  writeFileSync(
    conf,
    [
      'version: 0.1',
      'log: { level: error, accesslog: { disabled: true } }',
      `storage: { filesystem: { rootdirectory: ${JSON.stringify(path.join(tmp, `data-${runSeq}`))} } }`,
      `http: { addr: ${JSON.stringify(host)} }`,
    ].join('\n'),
  );
  const child = spawn('docker-registry', ['serve', conf], { stdio: 'ignore' });
  for (let i = 0; ; i++) {
    try {
      const res = await fetch(`http://${host}/v2/`);
      if (res.ok) break;
    } catch {}
    if (i > 100) throw new Error('docker-registry did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  return { host, stop: () => child.kill() };
}
const registries = [];
const fresh = async () => {
  const r = await startRegistry();
  registries.push(r);
  return r.host;
};

try {
  // A DB-like payload: text rows with random ids compress about as well as a real bundles.db.
  const rows = [];
  let size = 0;
  while (payload === 'text' && size < dbMb * 1024 * 1024) {
    const row = `INSERT INTO operatorbundle VALUES('${randomBytes(12).toString('hex')}','{"kind":"ClusterServiceVersion","spec":{"version":"${size % 97}.0.${size % 13}"}}');\n`;
    rows.push(row);
    size += row.length;
  }
  const db = payload === 'random' ? randomBytes(dbMb * 1024 * 1024) : Buffer.from(rows.join(''));
  const store = new LocalDirStore(path.join(tmp, 'store'));
  const deps = { store, log: silentLogger };
  await store.put('builds/bench/bundles.db', db);
  const assembled = await assembleImage(
    { buildId: 'bench', dbKey: 'builds/bench/bundles.db', from: 'scratch', sourceDateEpoch: 0 },
    deps,
  );
  const layout = path.join(tmp, 'layout');
  await pushImage(
    { buildId: 'bench', imageKey: assembled.imageKey, to: `oci:${layout}:cat` },
    deps,
  );
  const layerBytes = (
    await store.head(`blobs/sha256/${assembled.platforms[0].layerDigest.slice(7)}`)
  ).size;

  const time = async (fn) => {
    const t0 = performance.now();
    await fn();
    return (performance.now() - t0) / 1000;
  };
  const ours = [];
  const skopeo = [];
  const startup = [];
  let lastSkopeoHost = '';
  for (let i = 0; i < runs; i++) {
    const oursHost = await fresh();
    ours.push(
      await time(async () => {
        const r = await pushImage(
          {
            buildId: 'bench',
            imageKey: assembled.imageKey,
            to: `${oursHost}/bench/ours:v1`,
            insecure: true,
          },
          deps,
        );
        if (r.blobs.uploaded !== 2)
          throw new Error(`expected 2 uploads, got ${JSON.stringify(r.blobs)}`);
      }),
    );
    // skopeo remembers where it pushed a blob (a blob-info cache under /var/lib/containers when
    // run as root) and would mount it from there: a fresh registry per run makes it upload.
    const skopeoHost = await fresh();
    lastSkopeoHost = skopeoHost;
    skopeo.push(
      await time(async () => {
        execFileSync('skopeo', [
          'copy',
          '-q',
          '--dest-tls-verify=false',
          `oci:${layout}:cat`,
          `docker://${skopeoHost}/bench/skopeo:v1`,
        ]);
      }),
    );
    startup.push(await time(async () => execFileSync('skopeo', ['--version'])));
  }
  // Same image on both sides: skopeo must have pushed the digest we computed.
  const raw = execFileSync('skopeo', [
    'inspect',
    '--raw',
    '--tls-verify=false',
    `docker://${lastSkopeoHost}/bench/skopeo:v1`,
  ]);
  const { createHash } = await import('node:crypto');
  const skopeoDigest = `sha256:${createHash('sha256').update(raw).digest('hex')}`;
  if (skopeoDigest !== assembled.digest)
    throw new Error(`skopeo pushed ${skopeoDigest}, we built ${assembled.digest}`);

  const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const fmt = (x) => x.toFixed(3);
  const cpu =
    readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? 'unknown';
  console.log(
    `machine: ${os.cpus().length} cores (nproc), ${cpu}, node ${process.version}, ${execFileSync('skopeo', ['--version'], { encoding: 'utf8' }).trim()}; ${new Date().toISOString().slice(0, 10)}; ${runs} runs`,
  );
  console.log(
    `DB (${payload}) ${(db.length / 2 ** 20).toFixed(1)} MiB, layer (gzip) ${(layerBytes / 2 ** 20).toFixed(1)} MiB, digest ${assembled.digest.slice(0, 19)}…`,
  );
  console.log('| push (fresh registry each run) | min s | median s | max s |');
  console.log('| --- | --- | --- | --- |');
  for (const [name, xs] of [
    ['ours: pushImage from the store', ours],
    ['skopeo copy oci: → docker://', skopeo],
    ['(skopeo --version, start-up only)', startup],
  ]) {
    console.log(
      `| ${name} | ${fmt(Math.min(...xs))} | ${fmt(med(xs))} | ${fmt(Math.max(...xs))} |`,
    );
  }
  console.log(`ratio ours ÷ skopeo (medians): ${(med(ours) / med(skopeo)).toFixed(2)}`);
} finally {
  for (const r of registries) r.stop();
  rmSync(tmp, { recursive: true, force: true });
}
