// Fail fast: what a build will need at its end is checked before its first download, so a
// request that cannot succeed fails in seconds instead of after every package was fetched
// and the index built. Flag values were checked by parseBuildOptions; here the local
// prerequisites (auth file readable and JSON, --store a directory, --to-db not a directory)
// and then the network ones: the destination registry answers the v2 API (plain HTTP vs TLS
// said with the --insecure hint) and, where its token server tells, grants push scope to the
// credentials we have, and the base image resolves
// to a platform --filter-by-os keeps. Each problem is the named error the later stage would
// have thrown; local usage problems are UsageErrors (exit 2).
import { readFile, stat } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import { fsCause } from '../fs-errors.js';
import { parseDestinationLocation, parseSourceLocation } from '../image/location.js';
import type { BuildRequest, StageDeps } from '../stages/types.js';
import type { LocalSettings } from './build-options.js';

/** A prerequisite of the build that is missing (a file, a directory) before any work. */
export class PreflightError extends UsageError {
  override name = 'PreflightError';
}

export async function checkLocalPrerequisites(local: LocalSettings): Promise<void> {
  const problems: string[] = [];
  if (local.registryConfig) {
    try {
      const parsed = JSON.parse(await readFile(local.registryConfig, 'utf8')) as unknown;
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        problems.push(`--registry-config ${local.registryConfig}: not a JSON object`);
    } catch (err) {
      problems.push(
        `--registry-config ${local.registryConfig}: ${err instanceof SyntaxError ? 'not valid JSON' : fsCause(err)}`,
      );
    }
  }
  const notA = async (file: string | undefined, flag: string, want: 'dir' | 'file') => {
    if (!file) return;
    try {
      const s = await stat(file);
      if (want === 'dir' && !s.isDirectory()) problems.push(`${flag} ${file} is not a directory`);
      if (want === 'file' && s.isDirectory()) problems.push(`${flag} ${file} is a directory`);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR') problems.push(`${flag} ${file}: ${fsCause(err)}`);
      // ENOENT: it will be created.
    }
  };
  await notA(local.storeDir, '--store', 'dir');
  await notA(local.toDb, '--to-db', 'file');
  await notA(local.digestFile, '--digest-file', 'file');
  if (problems.length > 0)
    throw new PreflightError(`checking the build's prerequisites: ${problems.join('; ')}`);
}

/**
 * The network half: the base resolves (with a platform the filter keeps) and the registry
 * destination answers. Errors are the registry/usage errors the image stages would throw.
 */
export async function checkImagePrerequisites(
  request: BuildRequest,
  deps: StageDeps,
  local: LocalSettings,
): Promise<void> {
  if (!request.to || !request.from) return;
  // Loaded here, not at the top: the registry client brings undici and the AWS SDK (ECR
  // credentials), about 0.2 s of start-up that a --to-db or --to-fbc build never uses.
  const { registryClientOnDemand } = await import('../registry/open-client.js');
  const { openImageSource } = await import('../layout/image-ports.js');
  const registry = registryClientOnDemand(deps, {
    insecure: request.insecure,
    maxPerRegistry: request.maxPerRegistry,
  });
  try {
    const to = parseDestinationLocation(request.to);
    if (to.kind === 'registry') await (await registry.get()).checkPushAccess(to.ref);
    const from = parseSourceLocation(request.from);
    if (from.kind !== 'scratch') {
      const source = openImageSource(from, {
        registry: registry.get,
        fileRoot: local.fromDir ?? local.dir,
      });
      await source.resolve(request.filterByOs);
    }
  } finally {
    await registry.close();
  }
}
