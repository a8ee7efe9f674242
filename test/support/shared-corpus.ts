// Where the shared reference corpus is (../shared beside the checkout). Tests that need it
// skip with a clear message when it is absent; its data is never copied into the project.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const REPO_ROOT = repoRoot;
export const SHARED = path.resolve(repoRoot, '..', 'shared');
export const CORPUS = path.join(SHARED, 'corpus', 'dev');
export const HAVE_CORPUS = existsSync(path.join(CORPUS, 'packages'));
export const CORPUS_SKIP_REASON = `../shared/corpus/dev is absent (looked in ${path.relative(process.cwd(), CORPUS) || '.'}); corpus tests skipped`;
export const COMPARE_INDEX = path.join(SHARED, 'tools', 'compare-index');
export const COMPARE_FBC = path.join(SHARED, 'tools', 'compare-fbc');

/** The reference FBC (`opm migrate` v1.26.5) of a dev set: `packages` or `operator-registry-manifests`. */
export function expectedFbc(set: string): string {
  return path.join(CORPUS, 'expected', `opm-v1.26.5-migrate.${set}`);
}

if (!HAVE_CORPUS) console.warn(`[corpus] ${CORPUS_SKIP_REASON}`);

export const EXPECTED_PACKAGES = path.join(
  CORPUS,
  'expected',
  'opm-v1.8.0-initializer.packages.json',
);

/** compare-index's verdict on a DB; exit 1 (DIFFERENT) is returned, not thrown, so the diff shows. */
export function compareIndex(
  expected: string,
  db: string,
): Promise<{ code: number; output: string }> {
  return runCompareTool([COMPARE_INDEX, '--expected', expected, db]);
}

/** compare-fbc's verdict on an FBC directory (extra flags such as --bytes first). */
export function compareFbc(
  expected: string,
  actual: string,
  flags: string[] = [],
): Promise<{ code: number; output: string }> {
  return runCompareTool([COMPARE_FBC, ...flags, expected, actual]);
}

async function runCompareTool(args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)('python3', args, {
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}
