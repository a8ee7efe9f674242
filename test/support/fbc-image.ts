// Reading back an FBC image layer the way the catalog pod sees it: the tar entries with their
// modes, and the check `opm serve` makes at start-up with cache integrity enforced (the
// FNV-1a digest over the /configs tree and the cache/ tree, as found, against
// /tmp/cache/digest). Not a test file itself.
import { compareWalkOrder } from '../../lib/catalog/file-tree.js';
import { serveCacheDigest, type Tree } from '../../lib/index/go-tar-fnv.js';
import type { LayerFile } from './skopeo.js';

function treeUnder(entries: LayerFile[], root: string): Tree {
  const norm = (n: string) => n.replace(/^\.?\//, '').replace(/\/$/, '');
  const rootEntry = entries.find((e) => norm(e.name) === root);
  if (!rootEntry) throw new Error(`no ${root} in the layer`);
  const below = entries
    .filter((e) => norm(e.name).startsWith(`${root}/`))
    .map((e) => ({
      path: norm(e.name).slice(root.length + 1),
      mode: (e.mode ?? 0) & 0o7777,
      ...(e.type === 'directory' ? {} : { data: new Uint8Array(e.data) }),
    }))
    .sort((a, b) => compareWalkOrder(a.path, b.path));
  return { rootMode: (rootEntry.mode ?? 0) & 0o7777, entries: below };
}

/** opm serve's integrity check on an unpacked FBC layer: the stored and the computed digest. */
export function serveCacheCheck(entries: LayerFile[]): { stored: string; computed: string } {
  const digest = entries.find((e) => e.name.replace(/^\.?\//, '') === 'tmp/cache/digest');
  if (!digest) throw new Error('no tmp/cache/digest in the layer');
  return {
    stored: digest.data.toString('utf8').trim(),
    computed: serveCacheDigest(
      treeUnder(entries, 'configs'),
      treeUnder(entries, 'tmp/cache/cache'),
    ),
  };
}
