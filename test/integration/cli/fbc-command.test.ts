// `catalog-build --index-format fbc --to-fbc DIR` as a user runs it: on both reference sets the
// directory is byte-identical to what `opm migrate` v1.26.5 wrote (compare-fbc --bytes), a
// non-empty DIR is refused and left alone, and --to-fbc without the fbc format is a usage error.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../support/run-cli.js';
import {
  CORPUS,
  CORPUS_SKIP_REASON,
  compareFbc,
  expectedFbc,
  HAVE_CORPUS,
  REPO_ROOT,
} from '../../support/shared-corpus.js';

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'fbc-cli-'));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe.skipIf(!HAVE_CORPUS)('--index-format fbc --to-fbc on the reference corpus', () => {
  if (!HAVE_CORPUS) console.warn(CORPUS_SKIP_REASON);
  for (const [set, dir] of [
    ['packages', path.join(CORPUS, 'packages')],
    ['operator-registry-manifests', path.join(CORPUS, 'operator-registry-v1.8.0', 'manifests')],
  ] as const) {
    it(`writes what opm migrate v1.26.5 wrote for ${set}, byte for byte`, async () => {
      const out = path.join(tmp, set);
      const run = await runCli([
        '--manifest-dir',
        dir,
        '--index-format',
        'fbc',
        '--to-fbc',
        out,
        '--store',
        path.join(tmp, 'store'),
        '-q',
      ]);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const verdict = await compareFbc(expectedFbc(set), out, ['--bytes']);
      expect(verdict.output).toMatch(/MATCH$/m);
      expect(verdict.code).toBe(0);
    });
  }
});

describe('--to-fbc refusals', () => {
  const manifests = path.join(REPO_ROOT, 'examples', 'manifests');
  it('refuses a non-empty directory and leaves it as it was', async () => {
    const out = path.join(tmp, 'busy');
    mkdirSync(out, { recursive: true });
    writeFileSync(path.join(out, 'README'), 'mine');
    const run = await runCli([
      '--manifest-dir',
      manifests,
      '--index-format',
      'fbc',
      '--to-fbc',
      out,
      '--store',
      path.join(tmp, 'store2'),
      '-q',
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`output dir "${out}" must be empty`);
    expect(readdirSync(out)).toEqual(['README']);
    expect(readdirSync(tmp).filter((n) => n.startsWith('busy.tmp-'))).toEqual([]);
  });
  it('needs --index-format fbc', async () => {
    const run = await runCli(['--manifest-dir', manifests, '--to-fbc', path.join(tmp, 'x')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--to-fbc needs --index-format fbc');
  });
});
