// One malformed bundle among many: upstream (opm registry add / opm render) produces nothing
// at all when one bundle of its input cannot be read; we name that bundle in a warning and
// build the rest. The input is bench/make-synthetic-catalog.mjs's --malformed copy of the
// bundle corpus, written to a temporary directory (the corpus itself is read in place): one
// bundle's CSV is cut in half. Built through the CLI (--manifest-dir … --index-format fbc
// --to-fbc), so the bounded stage path is the one checked; every package but the one with the
// broken bundle (and mercury-operator, see the corpus README) equals opm's catalog.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BUNDLES_PACKAGES,
  BUNDLES_TITLE_NOTE,
  compareFbc,
  EXPECTED_REGISTRY_ADD,
  HAVE_BUNDLES_CORPUS,
  withoutImages,
} from '../../support/bundles-corpus.js';
import { runCliInProcess } from '../../support/cli-in-process.js';
import { REPO_ROOT } from '../../support/shared-corpus.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'malformed-bundle-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.skipIf(!HAVE_BUNDLES_CORPUS)(`one malformed bundle${BUNDLES_TITLE_NOTE}`, () => {
  it('is a warning naming it; the other 472 bundles build into the FBC', async () => {
    const input = path.join(tmp, 'in');
    const made = execFileSync(
      process.execPath,
      [
        path.join(REPO_ROOT, 'bench', 'make-synthetic-catalog.mjs'),
        BUNDLES_PACKAGES,
        input,
        '1',
        '--malformed',
      ],
      { encoding: 'utf8' },
    );
    const broken = /broken: (copy000\/([^/]+)\/([^/]+))\/manifests\//.exec(made);
    expect(broken, made).not.toBeNull();
    const [, bundleDir, pkg] = broken!;
    const out = path.join(tmp, 'out');
    const store = path.join(tmp, 'store');
    const run = await runCliInProcess([
      '--manifest-dir',
      input,
      '--index-format',
      'fbc',
      '--to-fbc',
      out,
      '--store',
      store,
      '--build-id',
      'malformed',
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`reading bundle ${bundleDir}: no csv in bundle`);
    const warnings = JSON.parse(
      readFileSync(path.join(store, 'builds', 'malformed', 'warnings.json'), 'utf8'),
    ) as { bundles: { source: string; outcome: string }[] };
    expect(warnings.bundles).toHaveLength(473);
    expect(warnings.bundles.filter((b) => b.outcome === 'refused')).toEqual([
      expect.objectContaining({ source: bundleDir, outcome: 'refused' }),
    ]);
    const expected = path.join(tmp, 'expected-without-images');
    withoutImages(EXPECTED_REGISTRY_ADD, expected);
    const verdict = await compareFbc(expected, out, [
      '--skip-package',
      'mercury-operator',
      '--skip-package',
      pkg!,
    ]);
    expect(verdict.code, verdict.output).toBe(0);
    // The package of the broken bundle is there too, without it.
    const catalog = readFileSync(path.join(out, pkg!, 'catalog.json'), 'utf8');
    expect(catalog).toMatch(/"schema": "olm\.package"/);
    expect(catalog).toContain(`"name": "${pkg}"`);
  }, 300_000);
});
