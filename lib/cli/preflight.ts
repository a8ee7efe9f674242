// Fail fast, the command line's own half: what a build will need at its end is checked before
// its first download. Flag values were checked by parseBuildOptions; here the local
// prerequisites (auth file readable and JSON, --store a directory, --to-db and --digest-file
// not directories), which only the CLI has. The network half — destination answers and takes
// our credentials, base resolves with a platform --filter-by-os keeps — is the preflight
// stage (lib/stages/preflight.ts), which the state machine runs as its first state too.
// Local usage problems are UsageErrors (exit 2).
import { readFile, stat } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import { fsCause } from '../fs-errors.js';
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
