// Stage 1: list the packages of an App Registry org and resolve each one's default release
// to a blob digest (list → show, as oc did), with bounded parallelism. Every package is
// tried; failures are reported together in one AppRegistryPackagesFailedError, because
// upstream fails the whole build when any package cannot be downloaded.
import { withAppRegistryClient } from '../appregistry/client.js';
import {
  AppRegistryEmptyOrgError,
  AppRegistryListingLimitError,
  AppRegistryPackageNameError,
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

/**
 * What a package name from the network must look like to become a folder, a store key and a
 * stage record item: OLM's package names are Kubernetes object names (lower-case DNS labels
 * in practice); quay allowed a little more, so letters of both cases and '_' pass too.
 */
/**
 * Packages one build takes from a listing by default: redhat-operators, the largest org, had
 * a few hundred; 10 000 leaves wide room while a hostile 200 000-entry listing stops at once.
 */
export const DEFAULT_MAX_PACKAGES = 10_000;

export const PACKAGE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

export async function listPackages(
  request: ListPackagesRequest,
  deps: AppRegistryStageDeps,
): Promise<ListPackagesResult> {
  const { org } = request.appRegistry;
  return withAppRegistryClient(request.appRegistry, deps, async (client) => {
    const all = await client.listPackages(org);
    if (all.length === 0) {
      throw new AppRegistryEmptyOrgError(
        `listing packages of org ${org} at ${client.endpoint}: org ${org} has no packages at ${client.endpoint} (check --appregistry-org and --appregistry-endpoint)`,
      );
    }
    const max = request.appRegistry.maxPackages ?? DEFAULT_MAX_PACKAGES;
    if (all.length > max) {
      throw new AppRegistryListingLimitError(
        `listing packages of org ${org} at ${client.endpoint}: it lists ${all.length} packages, over the limit of ${max} (raise it with --max-packages or appRegistry.maxPackages)`,
      );
    }
    const warnings: string[] = [];
    const listed = all.filter((p) => {
      if (PACKAGE_NAME.test(p.repository)) return true;
      const err = new AppRegistryPackageNameError(
        `listing packages of org ${org}: package name ${JSON.stringify(p.repository.length > 80 ? `${p.repository.slice(0, 80)}…` : p.repository)} is not a valid package name (letters, digits, '.', '_', '-'; at most 200)`,
      );
      warnings.push(`${err.message} (${err.name}; the package is left out)`);
      deps.log.warn(warnings.at(-1)!);
      return false;
    });
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
    return { buildId: request.buildId, packages, ...(warnings.length ? { warnings } : {}) };
  });
}
