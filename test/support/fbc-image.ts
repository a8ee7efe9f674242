// Reading back an FBC image layer the way the catalog pod sees it: the tar entries with their
// modes, and the check `opm serve` makes at start-up with cache integrity enforced (the
// FNV-1a digest over the /configs tree and the cache/ tree, as found, against
// /tmp/cache/digest). Not a test file itself.
import { gunzipSync } from 'node:zlib';
import tarStream from 'tar-stream';
import { compareWalkOrder } from '../../lib/catalog/file-tree.js';
import { serveCacheDigest, type Tree } from '../../lib/index/go-tar-fnv.js';

export interface TarEntry {
  header: tarStream.Header;
  data: Buffer;
}

/** Every entry of a tar (give gzip'd bytes with gzip: true). */
export async function readTar(
  bytes: Uint8Array,
  options: { gzip?: boolean } = {},
): Promise<TarEntry[]> {
  const tar = options.gzip ? gunzipSync(bytes) : Buffer.from(bytes);
  const entries: TarEntry[] = [];
  const ex = tarStream.extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (header, stream, next) => {
      const parts: Buffer[] = [];
      stream.on('data', (c: unknown) => parts.push(c as Buffer));
      stream.on('end', () => {
        entries.push({ header, data: Buffer.concat(parts) });
        next();
      });
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
  });
  ex.end(tar);
  await done;
  return entries;
}

function treeUnder(entries: TarEntry[], root: string): Tree {
  const norm = (n: string) => n.replace(/^\.?\//, '').replace(/\/$/, '');
  const rootEntry = entries.find((e) => norm(e.header.name) === root);
  if (!rootEntry) throw new Error(`no ${root} in the layer`);
  const below = entries
    .filter((e) => norm(e.header.name).startsWith(`${root}/`))
    .map((e) => ({
      path: norm(e.header.name).slice(root.length + 1),
      mode: (e.header.mode ?? 0) & 0o7777,
      ...(e.header.type === 'directory' ? {} : { data: new Uint8Array(e.data) }),
    }))
    .sort((a, b) => compareWalkOrder(a.path, b.path));
  return { rootMode: (rootEntry.header.mode ?? 0) & 0o7777, entries: below };
}

/** opm serve's integrity check on an unpacked FBC layer: the stored and the computed digest. */
export function serveCacheCheck(entries: TarEntry[]): { stored: string; computed: string } {
  const digest = entries.find((e) => e.header.name.replace(/^\.?\//, '') === 'tmp/cache/digest');
  if (!digest) throw new Error('no tmp/cache/digest in the layer');
  return {
    stored: digest.data.toString('utf8').trim(),
    computed: serveCacheDigest(
      treeUnder(entries, 'configs'),
      treeUnder(entries, 'tmp/cache/cache'),
    ),
  };
}
