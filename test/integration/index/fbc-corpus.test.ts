// The FBC writer on the reference corpus: both dev sets written as `<package>/catalog.json`
// files and compared with ../shared/tools/compare-fbc against what `opm migrate` v1.26.5
// wrote, byte for byte (--bytes), and the serve cache digest against `opm serve`'s.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../../lib/catalog/load-catalog.js';
import { writeFbc } from '../../../lib/index/write-fbc.js';
import { readManifestDir } from '../../../lib/store/manifest-dir.js';
import {
  CORPUS,
  CORPUS_SKIP_REASON,
  compareFbc,
  expectedFbc,
  HAVE_CORPUS,
} from '../../support/shared-corpus.js';

const SETS = [
  { set: 'packages', dir: path.join(CORPUS, 'packages') },
  {
    set: 'operator-registry-manifests',
    dir: path.join(CORPUS, 'operator-registry-v1.8.0', 'manifests'),
  },
];

describe.skipIf(!HAVE_CORPUS)('FBC of the reference corpus', () => {
  if (!HAVE_CORPUS) console.warn(CORPUS_SKIP_REASON);
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'fbc-corpus-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  for (const { set, dir } of SETS) {
    it(`is byte-identical to opm migrate v1.26.5 for ${set}, with opm serve's cache digest`, async () => {
      const fbc = writeFbc(loadCatalog(await readManifestDir(dir), { rules: 'v1.26.5' }));
      const out = path.join(tmp, set);
      for (const f of fbc.files) {
        await mkdir(path.dirname(path.join(out, f.path)), { recursive: true });
        await writeFile(path.join(out, f.path), f.data);
      }
      const verdict = await compareFbc(expectedFbc(set), out, ['--bytes']);
      expect(verdict.output).toMatch(/MATCH$/m);
      expect(verdict.code).toBe(0);
      const digest = await readFile(
        path.join(CORPUS, 'expected', `opm-v1.26.5-serve-cache.${set}`, 'digest'),
        'utf8',
      );
      expect(fbc.cache.digest).toBe(digest);
    });
  }
});
