// The README's main job on the embedded default, with no cloud account and no network
// beyond loopback: serve the sample packages of examples/manifests as App Registry org
// "demo" with our own server, then run the real CLI against it exactly as one would run
// `oc adm catalog build` against quay.io — download → index → image — writing the image to
// an OCI layout (out/demo/image) and the database to out/demo/bundles.db.
// Then it builds the same org as a file-based catalog (`--index-format fbc`: out/demo/fbc with
// <package>/catalog.json, and out/demo/fbc-image with /configs, the opm serve cache and opm's
// Entrypoint/Cmd). Extra arguments go to the first build: `npm run demo -- --index-format
// sqlite` builds the schema-13 index of operator-registry v1.26.5 instead of oc 4.5's schema 7
// (then try the properties table it prints); `-- --index-format fbc` builds only the FBC.
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
const rel = (p) => path.relative(process.cwd(), p);
const extra = process.argv.slice(2);
const formatAt = extra.indexOf('--index-format');
const format =
  extra.find((a) => a.startsWith('--index-format='))?.slice('--index-format='.length) ??
  (formatAt >= 0 ? extra[formatAt + 1] : 'sqlite-v7');

/** One CLI build against the demo org (asynchronous: the server answers from this process). */
async function build(imageDir, output, flags) {
  const child = spawn(
    process.execPath,
    [
      path.join(root, 'dist/functions/local/main.js'),
      '--appregistry-org',
      'demo',
      '--appregistry-endpoint',
      server.url,
      '--from',
      'scratch',
      '--to',
      `oci:${rel(imageDir)}:latest`,
      ...output,
      '--store',
      rel(path.join(out, 'store')),
      ...flags,
    ],
    { stdio: 'inherit' },
  );
  const [status] = await once(child, 'exit');
  return status ?? 1;
}

try {
  const fbcDir = path.join(out, 'fbc');
  const fbcImage = path.join(out, 'fbc-image');
  rmSync(fbcDir, { recursive: true, force: true });
  rmSync(fbcImage, { recursive: true, force: true });
  const first = await build(
    path.join(out, format === 'fbc' ? 'fbc-image' : 'image'),
    format === 'fbc' ? ['--to-fbc', rel(fbcDir)] : ['--to-db', rel(path.join(out, 'bundles.db'))],
    extra,
  );
  // The same org as a file-based catalog too (blobs come from the store: nothing downloaded).
  const second =
    first === 0 && format !== 'fbc'
      ? await build(fbcImage, ['--to-fbc', rel(fbcDir)], ['--index-format', 'fbc'])
      : first;
  if (first !== 0 || second !== 0) process.exitCode = first || second;
  else {
    const query =
      format === 'sqlite'
        ? 'select type, value, operatorbundle_name from properties'
        : 'select * from channel_entry';
    const db = rel(path.join(out, 'bundles.db'));
    process.stderr.write(
      `\nTry: ${format === 'fbc' ? '' : `sqlite3 ${db} '${query}'\n     skopeo inspect --raw oci:${rel(path.join(out, 'image'))}:latest\n     `}` +
        `ls ${rel(fbcDir)}; head -c 400 ${rel(fbcDir)}/*/catalog.json   # the file-based catalog\n` +
        `     skopeo inspect --config oci:${rel(fbcImage)}:latest   # label, Entrypoint/Cmd for opm serve\n`,
    );
  }
} finally {
  await server.stop();
}
