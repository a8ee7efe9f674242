// oc's --manifest-dir with --appregistry-org: where the downloaded manifests are unpacked, so
// people can read exactly what went into the index. Paths come from the safe decoder (no '..',
// no absolute paths, no links), and are joined below the directory only.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { decodePackageBlob } from '../appregistry/decode.js';
import type { DecodeLimitsRequest, FetchedPackage } from '../stages/types.js';
import type { Store } from '../store/store.js';

export async function unpackPackages(
  store: Store,
  packages: readonly FetchedPackage[],
  dir: string,
  limits?: DecodeLimitsRequest,
): Promise<number> {
  const root = path.resolve(dir);
  let written = 0;
  for (const p of packages) {
    for (const file of decodePackageBlob(await store.get(p.key), p.name, limits).files) {
      const target = path.resolve(root, ...file.path.split('/'));
      if (!target.startsWith(root + path.sep)) continue;
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, file.data);
      written++;
    }
  }
  return written;
}
