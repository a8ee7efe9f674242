// Runs the `catalog-build` CLI as an unprivileged user (uid/gid 65534, "nobody", no groups):
// the suite runs as root, to which every directory is writable, so permission failures can
// only be seen from another user. `setpriv` (util-linux) switches user before node starts.
// `unprivilegedSkip` says why it cannot run here (not root, no setpriv, a sandbox that
// forbids setuid), for `it.skipIf`. Not a test file itself.
import { execFile, spawnSync } from 'node:child_process';
import type { CliRun } from './run-cli.js';
import { REPO_ROOT } from './shared-corpus.js';

export const NOBODY = 65534;
const SETPRIV = ['--reuid', String(NOBODY), '--regid', String(NOBODY), '--clear-groups'];

function probe(): string | undefined {
  if (process.getuid?.() !== 0) return 'not running as root: cannot switch to an unprivileged user';
  const r = spawnSync('setpriv', [
    ...SETPRIV,
    process.execPath,
    '-e',
    'process.exit(process.getuid() === 65534 ? 0 : 3)',
  ]);
  if (r.error) return `setpriv is not available (${(r.error as NodeJS.ErrnoException).code})`;
  if (r.status !== 0) return `setpriv cannot switch to uid ${NOBODY} here (exit ${r.status})`;
  const read = spawnSync('setpriv', [
    ...SETPRIV,
    process.execPath,
    '-e',
    `require('node:fs').accessSync(${JSON.stringify(REPO_ROOT)} + '/package.json')`,
  ]);
  if (read.status !== 0) return `uid ${NOBODY} cannot read the checkout at ${REPO_ROOT}`;
  return undefined;
}

/** Why unprivileged runs are impossible here, or undefined when they work. */
export const unprivilegedSkip: string | undefined = probe();

/** The CLI from source as uid/gid 65534 (HOME and the cache must be writable by it). */
export function runCliUnprivileged(args: string[], env: Record<string, string>): Promise<CliRun> {
  const childEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    CATALOG_BUILD_DEBUG: '',
    REGISTRY_AUTH_FILE: '',
    ...env,
  };
  return new Promise((resolve) => {
    execFile(
      'setpriv',
      [...SETPRIV, process.execPath, '--import', 'tsx', 'functions/local/main.ts', ...args],
      { cwd: REPO_ROOT, env: childEnv, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
