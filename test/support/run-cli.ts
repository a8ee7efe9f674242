// Runs the `catalog-build` CLI from source as a child process (node --import tsx), the way a
// user runs it, and collects its exit code and output. Not a test file itself.
import { execFile } from 'node:child_process';
import { REPO_ROOT } from './shared-corpus.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `wrapper`: a command that runs node, e.g. `['taskset', '-c', '0']` (one CPU). Not a test file
 * itself.
 */
export function runCli(
  args: string[],
  env: Record<string, string | undefined> = {},
  wrapper: string[] = [],
): Promise<CliRun> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, CATALOG_BUILD_DEBUG: '' };
  delete childEnv.SOURCE_DATE_EPOCH;
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete childEnv[k];
    else childEnv[k] = v;
  }
  return new Promise((resolve) => {
    const [command, ...commandArgs] = [...wrapper, process.execPath];
    execFile(
      command!,
      [...commandArgs, '--import', 'tsx', 'functions/local/main.ts', ...args],
      { cwd: REPO_ROOT, env: childEnv, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
