// oc's --manifest-dir with --appregistry-org: where the downloaded manifests are unpacked, so
// people can read exactly what went into the index. Paths come from the safe decoder (no '..',
// no absolute paths, no links), and are joined below the directory only. Every package's
// paths are checked against the others' before anything is written: a file of one package
// where another has a directory is a named error naming both, never a raw EEXIST half-way.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { decodePackageBlob } from '../appregistry/decode.js';
import { CatalogError } from '../errors.js';
import { fsCause } from '../fs-errors.js';
import type { DecodeLimitsRequest, FetchedPackage } from '../stages/types.js';
import type { Store } from '../store/store.js';

/** The downloaded manifests cannot be unpacked to --manifest-dir (collision, disk, access). */
export class ManifestUnpackError extends CatalogError {
  override name = 'ManifestUnpackError';
}

export async function unpackPackages(
  store: Store,
  packages: readonly FetchedPackage[],
  dir: string,
  limits?: DecodeLimitsRequest,
): Promise<number> {
  const root = path.resolve(dir);
  const what = `unpacking the downloaded manifests to ${dir}`;
  const fileOwner = new Map<string, string>();
  const dirOwner = new Map<string, string>();
  const planned: { file: string; data: Uint8Array }[] = [];
  for (const p of packages) {
    for (const file of decodePackageBlob(await store.get(p.key), p.name, limits).files) {
      const target = path.resolve(root, ...file.path.split('/'));
      if (!target.startsWith(root + path.sep)) continue;
      const clash = (other: string | undefined, kind: string) => {
        if (other !== undefined && other !== p.name)
          throw new ManifestUnpackError(
            `${what}: ${file.path} of package ${p.name} is ${kind} of package ${other}`,
          );
      };
      clash(dirOwner.get(file.path), 'a directory');
      const segs = file.path.split('/');
      for (let i = 1; i < segs.length; i++) {
        const parent = segs.slice(0, i).join('/');
        clash(fileOwner.get(parent), `below the file ${parent}`);
        if (!dirOwner.has(parent)) dirOwner.set(parent, p.name);
      }
      fileOwner.set(file.path, p.name);
      planned.push({ file: target, data: file.data });
    }
  }
  let written = 0;
  for (const { file, data } of planned) {
    try {
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, data);
    } catch (cause) {
      throw new ManifestUnpackError(
        `${what}: writing ${path.relative(root, file)}: ${fsCause(cause)}`,
        {
          cause,
        },
      );
    }
    written++;
  }
  return written;
}
