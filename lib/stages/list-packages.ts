// Stage 1: list the packages of an App Registry org and resolve each one's default release
// to a blob digest (list → show, as oc did), with bounded parallelism. Every package is
// tried; failures are reported together in one AppRegistryPackagesFailedError, because
// upstream fails the whole build when any package cannot be downloaded.
import { withAppRegistryClient } from '../appregistry/client.js';
import {
  AppRegistryProtocolError,
  type PackageFailure,
  packageFailure,
  packagesFailedError,
} from '../appregistry/errors.js';
import { mapSettled } from '../http/limiter.js';
import type {
  AppRegistryStageDeps,
  ListPackagesRequest,
  ListPackagesResult,
  PackageRef,
} from './types.js';

export async function listPackages(
  request: ListPackagesRequest,
  deps: AppRegistryStageDeps,
): Promise<ListPackagesResult> {
  const { org } = request.appRegistry;
  return withAppRegistryClient(request.appRegistry, deps, async (client) => {
    const listed = await client.listPackages(org);
    deps.log.info('listed App Registry packages', {
      org,
      endpoint: client.endpoint,
      count: listed.length,
    });
    const settled = await mapSettled(
      listed,
      deps.concurrency ?? 8,
      async (p): Promise<PackageRef> => {
        if (!p.defaultRelease) {
          throw new AppRegistryProtocolError(
            `showing the default release of ${p.fullName} at ${client.endpoint}: the listing names no default release`,
          );
        }
        const shown = await client.showRelease(org, p.repository, p.defaultRelease);
        return { name: p.repository, release: shown.release, digest: shown.digest };
      },
    );
    const failures: PackageFailure[] = [];
    const packages: PackageRef[] = [];
    settled.forEach((s, i) => {
      if (s.ok) packages.push(s.value);
      else failures.push(packageFailure(listed[i]!.repository, s.error));
    });
    if (failures.length) {
      throw packagesFailedError(
        `listing packages of org ${org} at ${client.endpoint}`,
        failures,
        listed.length,
      );
    }
    return { buildId: request.buildId, packages };
  });
}
