// Benchmark: a large DB layer assembled and pushed with memory independent of its size (issue
// 14, item 4). For each DB size (default 256 MiB and 1 GiB of DB-like rows: SQL text with
// random ids, compressing about 4:1 — not a real SQLite file, the layer does not care), a fresh
// node process assembles the catalog image on `scratch` from a local-directory store and pushes
// it to a fresh Debian docker-registry on 127.0.0.1, two ways:
//   cli      — lib/cli/image-steps.ts's runImageStages, the image half of `catalog-build`
//              (the DB as build-index leaves it in the store; upload progress on, as the CLI has it);
//   handlers — the AssembleImage and PushImage Lambda handlers, invoked with the events the
//              state machine sends, over the same kind of store (as `catalog-build pipeline` runs them);
//   handlers-s3 — the same handlers over an S3 store (s3rver in a process of its own, so its
//              memory is not counted): the Lambda path, multipart upload and CopyObject included.
// Each process is measured by GNU time (`/usr/bin/time -v`: peak RSS, user+sys CPU, wall); the
// pushed image is then checked with skopeo (manifest digest; `skopeo copy` to an OCI layout,
// which verifies every blob's digest, and the layer's digest and size against our plan).
// Usage: node bench/large-layer.mjs [SIZES_MIB=256,1024] [PATHS=cli,handlers[,handlers-s3]] [text|random]
//   (random: incompressible bytes, the worst case: the layer is as big as the DB)
// Prints a Markdown table for docs/BENCHMARKS.md.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import {
  createReadStream,
  createWriteStream,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const EPOCH = 1_700_000_000;
const bundle = path.join(root, 'node_modules', '.cache', 'bench-large-layer', 'entry.mjs');

if (process.argv[2] === '--worker') {
  await worker(JSON.parse(process.argv[3]));
  process.exit(0);
}

// s3rver takes any credentials; the SDK wants some.
process.env.AWS_ACCESS_KEY_ID ??= 'S3RVER';
process.env.AWS_SECRET_ACCESS_KEY ??= 'S3RVER';
process.env.AWS_REGION ??= 'us-east-1';
const sizes = (process.argv[2] ?? '256,1024').split(',').map(Number);
const paths = (process.argv[3] ?? 'cli,handlers').split(',');
const payload = process.argv[4] ?? 'text';

/** Bundles the TypeScript the worker needs (stages, handlers, store) into one ESM file. */
async function buildBundle() {
  const { build } = await import('esbuild');
  mkdirSync(path.dirname(bundle), { recursive: true });
  await build({
    stdin: {
      contents: [
        "export { runImageStages } from './lib/cli/image-steps.ts';",
        "export { LocalDirStore } from './lib/store/local-dir-store.ts';",
        "export { S3Store } from './lib/store/s3-store.ts';",
        "export { silentLogger } from './lib/stages/types.ts';",
        "export { setFunctionRuntime } from './functions/commons/runtime.ts';",
        "export { invokeLocalFunction } from './functions/commons/local-handlers.ts';",
      ].join('\n'),
      resolveDir: root,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outfile: bundle,
    logLevel: 'warning',
  });
}

/** The measured process: assemble + push of one build whose DB is already in the store. */
async function worker({ mode, storeDir, s3, buildId, to }) {
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  const m = await import(bundle);
  const store = s3 ? new m.S3Store(s3) : new m.LocalDirStore(storeDir);
  const dbKey = `builds/${buildId}/bundles.db`;
  const from = 'scratch';
  let pushed;
  if (mode === 'cli') {
    let uploaded = 0;
    const deps = {
      store,
      log: m.silentLogger,
      progress: (p) => {
        if (p.kind === 'upload') uploaded = p.bytes;
      },
    };
    pushed = await m.runImageStages(
      { buildId, from, to, insecure: true, sourceDateEpoch: EPOCH },
      {},
      { buildId, dbKey, indexFormat: 'sqlite-v7' },
      deps,
      (_stage, run) => run(),
    );
    pushed.progressBytes = uploaded;
  } else {
    m.setFunctionRuntime({
      store,
      resolveSecret: async () => {
        throw new Error('no secrets in this benchmark');
      },
    });
    const common = { buildId, from, to, insecure: true, sourceDateEpoch: EPOCH };
    const execution = `arn:aws:states:local:0:execution:bench:${buildId}`;
    const image = await m.invokeLocalFunction('AssembleImage', {
      input: { ...common, index: { dbKey } },
      execution,
    });
    pushed = await m.invokeLocalFunction('PushImage', {
      input: { ...common, image },
      execution,
    });
  }
  const plan = JSON.parse(
    Buffer.from(await store.get(`builds/${buildId}/image.json`)).toString('utf8'),
  );
  const layer = plan.blobs.find((b) => b.mediaType.includes('layer'));
  process.stdout.write(
    `${JSON.stringify({ digest: pushed.digest, blobs: pushed.blobs, layer: { digest: layer.digest, size: layer.size } })}\n`,
  );
}

async function freePort() {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const p = srv.address().port;
      srv.close(() => resolve(p));
    });
  });
}

/** A fresh docker-registry (own port and storage): every run uploads every blob. */
async function startRegistry(dir) {
  const host = `127.0.0.1:${await freePort()}`;
  const conf = path.join(dir, 'registry.yml');
  writeFileSync(
    conf,
    [
      'version: 0.1',
      'log: { level: error, accesslog: { disabled: true } }',
      `storage: { filesystem: { rootdirectory: ${JSON.stringify(path.join(dir, 'data'))} } }`,
      `http: { addr: ${JSON.stringify(host)} }`,
    ].join('\n'),
  );
  const child = spawn('docker-registry', ['serve', conf], { stdio: 'ignore' });
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`http://${host}/v2/`)).ok) break;
    } catch {}
    if (i > 200) throw new Error('docker-registry did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  return { host, stop: () => child.kill() };
}

/** s3rver in a child process (its memory must not count), with one bucket. */
async function startS3(dir) {
  const port = await freePort();
  const script = [
    "import S3rver from 's3rver';",
    `const s = new S3rver({ address: '127.0.0.1', port: ${port}, silent: true, directory: ${JSON.stringify(path.join(dir, 's3'))}, configureBuckets: [{ name: 'bench' }] });`,
    'await s.run();',
  ].join('\n');
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    cwd: root,
    stdio: 'ignore',
  });
  const endpoint = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      await fetch(`${endpoint}/bench`);
      break;
    } catch {}
    if (i > 200) throw new Error('s3rver did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  return { options: { bucket: 'bench', endpoint, region: 'us-east-1' }, stop: () => child.kill() };
}

/** DB-like bytes: SQL rows with random ids (≈ 4:1 under gzip), written in 4 MiB batches. */
async function writeDbLike(file, bytes) {
  const out = createWriteStream(file);
  if (payload === 'random') {
    for (let written = 0; written < bytes; written += 4 * 2 ** 20) {
      if (!out.write(randomBytes(Math.min(4 * 2 ** 20, bytes - written)))) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
    return;
  }
  let written = 0;
  let n = 0;
  while (written < bytes) {
    const rows = [];
    let size = 0;
    while (size < 4 * 2 ** 20) {
      const id = randomBytes(12).toString('hex');
      const uid = randomBytes(9).toString('base64');
      const row = `INSERT INTO operatorbundle VALUES('${id}','{"kind":"ClusterServiceVersion","metadata":{"name":"op-${n % 977}.v${n % 89}.0.${n % 13}","uid":"${uid}"},"spec":{"replaces":"op-${n % 977}.v${(n + 1) % 89}.0.0"}}');\n`;
      rows.push(row);
      size += row.length;
      n++;
    }
    let buf = Buffer.from(rows.join(''));
    if (written + buf.length > bytes) buf = buf.subarray(0, bytes - written);
    if (!out.write(buf)) await once(out, 'drain');
    written += buf.length;
  }
  out.end();
  await once(out, 'finish');
}

/** `/usr/bin/time -v` fields of one run. */
function parseTime(text) {
  const field = (name) => {
    const m = text.match(new RegExp(`${name}:\\s*(.+)`));
    if (!m) throw new Error(`no "${name}" in GNU time output:\n${text}`);
    return m[1].trim();
  };
  const wall = field('Elapsed \\(wall clock\\) time \\(h:mm:ss or m:ss\\)')
    .split(':')
    .reduce((acc, x) => acc * 60 + Number(x), 0);
  return {
    rssMiB: Number(field('Maximum resident set size \\(kbytes\\)')) / 1024,
    user: Number(field('User time \\(seconds\\)')),
    sys: Number(field('System time \\(seconds\\)')),
    wall,
  };
}

function skopeo(...args) {
  return execFileSync('skopeo', args, { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
}

/** skopeo's view of what we pushed: manifest digest, and a full copy that verifies every blob. */
function verifyWithSkopeo(ref, expected, dir) {
  const raw = skopeo('inspect', '--raw', '--tls-verify=false', `docker://${ref}`);
  const digest = `sha256:${createHash('sha256').update(raw).digest('hex')}`;
  if (digest !== expected.digest)
    throw new Error(`skopeo sees manifest ${digest}, we pushed ${expected.digest}`);
  const manifest = JSON.parse(raw);
  const l = manifest.layers.at(-1);
  if (l.digest !== expected.layer.digest || l.size !== expected.layer.size)
    throw new Error(`manifest layer ${l.digest}/${l.size} is not the planned one`);
  const layout = path.join(dir, 'skopeo-copy');
  skopeo('copy', '-q', '--src-tls-verify=false', `docker://${ref}`, `oci:${layout}:v`);
  const blob = path.join(layout, 'blobs', 'sha256', l.digest.slice(7));
  const size = statSync(blob).size;
  if (size !== l.size) throw new Error(`skopeo copied ${size} bytes of the layer, not ${l.size}`);
  rmSync(layout, { recursive: true, force: true });
  return 'manifest digest, layer digest+size, full copy (every blob digest-checked by skopeo)';
}

await buildBundle();
const tmp = mkdtempSync(path.join(os.tmpdir(), 'bench-large-layer-'));
const results = [];
try {
  for (const mib of sizes) {
    const dbFile = path.join(tmp, `bundles-${mib}.db`);
    await writeDbLike(dbFile, mib * 2 ** 20);
    for (const mode of paths) {
      const runDir = mkdtempSync(path.join(tmp, `${mode}-${mib}-`));
      const storeDir = path.join(runDir, 'store');
      const buildId = `bench-${mode}-${mib}`;
      let s3;
      if (mode === 'handlers-s3') {
        s3 = await startS3(runDir);
        // The DB as build-index leaves it in the bucket (uploaded from this process).
        const { S3Store } = await import(bundle);
        await new S3Store(s3.options).putStream(
          `builds/${buildId}/bundles.db`,
          createReadStream(dbFile),
        );
      } else {
        mkdirSync(path.join(storeDir, 'builds', buildId), { recursive: true });
        // The DB as build-index leaves it in the store (a hard link: no copy, no extra disk).
        linkSync(dbFile, path.join(storeDir, 'builds', buildId, 'bundles.db'));
      }
      const registry = await startRegistry(runDir);
      const to = `${registry.host}/bench/catalog:v1`;
      try {
        const load = os.loadavg()[0];
        const timeFile = path.join(runDir, 'time.txt');
        const r = spawnSync(
          '/usr/bin/time',
          [
            '-v',
            '-o',
            timeFile,
            process.execPath,
            import.meta.filename,
            '--worker',
            JSON.stringify({ mode, storeDir, buildId, to, ...(s3 ? { s3: s3.options } : {}) }),
          ],
          { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 },
        );
        if (r.status !== 0) throw new Error(`${mode} ${mib} MiB failed:\n${r.stderr}`);
        const pushed = JSON.parse(r.stdout.trim().split('\n').at(-1));
        if (pushed.blobs.uploaded !== 2)
          throw new Error(`expected 2 uploads, got ${JSON.stringify(pushed.blobs)}`);
        const t = parseTime(readFileSync(timeFile, 'utf8'));
        const verified = verifyWithSkopeo(to, pushed, runDir);
        results.push({
          mib,
          payload,
          mode,
          ...t,
          load,
          layerMiB: pushed.layer.size / 2 ** 20,
          pushed,
          verified,
        });
        console.error(
          `${mode} ${mib} MiB: RSS ${t.rssMiB.toFixed(0)} MiB, CPU ${(t.user + t.sys).toFixed(1)} s, wall ${t.wall.toFixed(1)} s, layer ${(pushed.layer.size / 2 ** 20).toFixed(1)} MiB (load ${load.toFixed(2)})`,
        );
      } finally {
        registry.stop();
        s3?.stop();
        rmSync(runDir, { recursive: true, force: true });
      }
    }
    rmSync(dbFile, { force: true });
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

const cpu = readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? 'unknown';
console.log(
  `machine: ${os.cpus().length} cores, ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, ${skopeo('--version').trim()}; ${new Date().toISOString().slice(0, 16)}Z; load average (1 min) at each run's start in the table`,
);
console.log(
  '| DB | path | gzip layer | peak RSS | CPU user+sys | wall | load (1 min) | pushed manifest | skopeo check |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of results) {
  console.log(
    `| ${r.mib} MiB ${r.payload} | ${r.mode} | ${r.layerMiB.toFixed(1)} MiB | ${r.rssMiB.toFixed(0)} MiB | ${(r.user + r.sys).toFixed(1)} s (${r.user.toFixed(1)} + ${r.sys.toFixed(1)}) | ${r.wall.toFixed(1)} s | ${r.load.toFixed(2)} | ${r.pushed.digest.slice(0, 19)}… | ok |`,
  );
}
