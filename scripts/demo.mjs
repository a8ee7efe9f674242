// The README's main job on the embedded default, with no cloud account and no network
// beyond loopback: serve the sample packages of examples/manifests as App Registry org
// "demo" with our own server, then run the real CLI against it exactly as one would run
// `oc adm catalog build` against quay.io — download → index → image — writing the image to
// an OCI layout (out/demo/image) and the database to out/demo/bundles.db.
// Extra arguments go to the CLI: `npm run demo -- --index-format sqlite` builds the schema-13
// index of operator-registry v1.26.5 instead of oc 4.5's schema 7 (then try the properties
// table it prints).
// Usage: npm run demo [-- FLAGS]  (builds first; run `npm run build` yourself when calling this directly)
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { startAppRegistryServer } from '../dist/lib/appregistry/server.js';

const root = path.resolve(import.meta.dirname, '..');
const out = path.join(root, 'out', 'demo');
rmSync(path.join(out, 'image'), { recursive: true, force: true });

const server = await startAppRegistryServer({
  dir: path.join(root, 'examples', 'manifests'),
  org: 'demo',
});
process.stderr.write(`App Registry "demo" served at ${server.url}\n`);
try {
  const args = [
    path.join(root, 'dist/lib/cli/main.js'),
    '--appregistry-org',
    'demo',
    '--appregistry-endpoint',
    server.url,
    '--from',
    'scratch',
    '--to',
    `oci:${path.relative(process.cwd(), path.join(out, 'image'))}:latest`,
    '--to-db',
    path.relative(process.cwd(), path.join(out, 'bundles.db')),
    '--store',
    path.relative(process.cwd(), path.join(out, 'store')),
    ...process.argv.slice(2),
  ];
  // Asynchronous on purpose: the server answers from this process's event loop.
  const child = spawn(process.execPath, args, { stdio: 'inherit' });
  const [status] = await once(child, 'exit');
  if (status !== 0) process.exitCode = status ?? 1;
  else {
    const extra = process.argv.slice(2);
    const at = extra.indexOf('--index-format');
    const schema13 =
      extra.includes('--index-format=sqlite') || (at >= 0 && extra[at + 1] === 'sqlite');
    const query = schema13
      ? 'select type, value, operatorbundle_name from properties'
      : 'select * from channel_entry';
    process.stderr.write(
      `\nTry: sqlite3 ${path.relative(process.cwd(), path.join(out, 'bundles.db'))} '${query}'\n` +
        `     skopeo inspect --raw oci:${path.relative(process.cwd(), path.join(out, 'image'))}:latest\n`,
    );
  }
} finally {
  await server.stop();
}
