// Stage 2: download one package's release blob into the content-addressed store, once.
// A blob already under blobs/sha256/<hex> is not downloaded again (`downloaded: false`);
// a new one is hashed while it streams in, decoded once to surface warnings early, and put
// with create-if-absent so parallel fetches of the same blob cannot clash. `fetchPackages`
// runs the stage for a whole listing with bounded parallelism and, like upstream, fails
// after every package was tried with one error naming each failed package.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { type AppRegistryClient, withAppRegistryClient } from '../appregistry/client.js';
import { decodePackageBlob } from '../appregistry/decode.js';
import { type PackageFailure, packageFailure, packagesFailedError } from '../appregistry/errors.js';
import type { DecodeLimits } from '../archive/limits.js';
import { mapSettled } from '../http/limiter.js';
import { blobKey } from '../store/keys.js';
import type {
  AppRegistrySource,
  AppRegistryStageDeps,
  FetchedPackage,
  FetchPackageRequest,
  PackageRef,
} from './types.js';

export { buildPackagesJson, type PackagesJson } from '../appregistry/packages-json.js';

export interface FetchPackageDeps extends AppRegistryStageDeps {
  decodeLimits?: Partial<DecodeLimits>;
  /** Wraps each package's fetch in fetchPackages (the CLI records one stage result per item). */
  wrapItem?: (ref: PackageRef, run: () => Promise<FetchedPackage>) => Promise<FetchedPackage>;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function fetchWith(
  client: AppRegistryClient,
  source: AppRegistrySource,
  ref: PackageRef,
  deps: FetchPackageDeps,
): Promise<FetchedPackage> {
  const { org } = source;
  let digest = ref.digest?.replace(/^sha256:/, '');
  let expectedSize: number | undefined;
  if (!digest) {
    const shown = await client.showRelease(org, ref.name, ref.release);
    digest = shown.digest;
    expectedSize = shown.size;
  }
  const key = blobKey(digest);
  // Both paths end alike: report the package done, decode once for its warnings.
  const finish = (bytes: Uint8Array, downloaded: boolean): FetchedPackage => {
    const size = bytes.length;
    deps.progress?.({
      kind: 'download',
      package: ref.name,
      bytes: size,
      total: size,
      done: true,
      cached: !downloaded,
    });
    const { warnings } = decodePackageBlob(bytes, ref.name, deps.decodeLimits);
    return { name: ref.name, release: ref.release, digest, key, size, downloaded, warnings };
  };

  if (await deps.store.head(key)) {
    const bytes = await deps.store.get(key);
    if (sha256(bytes) === digest) return finish(bytes, false);
    // Content-addressed objects never change; one that does not hash right was damaged
    // outside our control, so it is replaced by a verified download.
    deps.log.warn('stored blob does not match its digest; downloading it again', {
      key,
      package: ref.name,
    });
  }

  // Streamed into the store as it arrives (never held whole; a body that does not hash right
  // fails before the store commits it), then read back once for its warnings.
  await client.pullBlobTo(
    org,
    ref.name,
    digest,
    async (body) => {
      await deps.store.putStream(key, Readable.from(body), { contentType: 'application/x-gzip' });
    },
    {
      ...(expectedSize === undefined ? {} : { expectedSize }),
      onProgress: (received, total) =>
        deps.progress?.({
          kind: 'download',
          package: ref.name,
          bytes: received,
          ...(total === undefined ? {} : { total }),
          done: false,
        }),
    },
  );
  return finish(await deps.store.get(key), true);
}

export async function fetchPackage(
  request: FetchPackageRequest,
  deps: FetchPackageDeps,
): Promise<FetchedPackage> {
  return withAppRegistryClient(request.appRegistry, deps, (client) =>
    fetchWith(client, request.appRegistry, request.package, deps),
  );
}

export interface FetchPackagesRequest {
  buildId: string;
  appRegistry: AppRegistrySource;
  packages: readonly PackageRef[];
}

/** Fetches every package (bounded parallel); throws one AppRegistryPackagesFailedError after all were tried. */
export async function fetchPackages(
  request: FetchPackagesRequest,
  deps: FetchPackageDeps,
): Promise<FetchedPackage[]> {
  return withAppRegistryClient(request.appRegistry, deps, async (client) => {
    const one = (ref: PackageRef) => fetchWith(client, request.appRegistry, ref, deps);
    const settled = await mapSettled(request.packages, deps.concurrency ?? 8, (ref) =>
      deps.wrapItem ? deps.wrapItem(ref, () => one(ref)) : one(ref),
    );
    const failures: PackageFailure[] = [];
    const fetched: FetchedPackage[] = [];
    settled.forEach((s, i) => {
      if (s.ok) fetched.push(s.value);
      else failures.push(packageFailure(request.packages[i]!.name, s.error));
    });
    if (failures.length) {
      throw packagesFailedError(
        `downloading packages of org ${request.appRegistry.org} at ${client.endpoint}`,
        failures,
        request.packages.length,
      );
    }
    return fetched;
  });
}
