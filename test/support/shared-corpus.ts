// Where the shared reference corpus is (../shared beside the checkout). Tests that need it
// skip with a clear message when it is absent; its data is never copied into the project.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const REPO_ROOT = repoRoot;
export const SHARED = path.resolve(repoRoot, '..', 'shared');
export const CORPUS = path.join(SHARED, 'corpus', 'dev');
export const HAVE_CORPUS = existsSync(path.join(CORPUS, 'packages'));
export const CORPUS_SKIP_REASON = `../shared/corpus/dev is absent (looked in ${path.relative(process.cwd(), CORPUS) || '.'}); corpus tests skipped`;
export const COMPARE_INDEX = path.join(SHARED, 'tools', 'compare-index');

if (!HAVE_CORPUS) console.warn(`[corpus] ${CORPUS_SKIP_REASON}`);
