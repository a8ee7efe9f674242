// Runs the `catalog-build` command line in this process (functions/local/cli.ts' main: lib/cli's
// commands plus pipeline and serve) and captures what it writes to stdout and stderr: the
// hostile-input suite runs dozens of builds, and a child process per build would cost a node
// start-up each. Not a test file itself.
import { main } from '../../functions/local/cli.js';
import type { CliRun } from './run-cli.js';

export async function runCliInProcess(
  args: string[],
  env: Record<string, string | undefined> = {},
): Promise<CliRun> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, CATALOG_BUILD_DEBUG: '' };
  delete childEnv.SOURCE_DATE_EPOCH;
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete childEnv[k];
    else childEnv[k] = v;
  }
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write;
  const err = process.stderr.write;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  try {
    const code = await main(args, childEnv);
    return { code, stdout, stderr };
  } catch (e) {
    return { code: -1, stdout, stderr: `${stderr}${String(e)}\n` };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}
