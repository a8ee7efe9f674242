// The index builder end to end on the reference corpus (issue 3's "Done when"): the
// build-index stage and the `catalog-build` CLI on ../shared/corpus/dev, each DB checked
// with ../shared/tools/compare-index against upstream's rows (csv/bundle sha256 included),
// and the warnings upstream gave. Skips with the shared-corpus message when ../shared is absent.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Problem } from '../../../lib/catalog/model.js';
import type { IndexWarnings } from '../../../lib/stages/build-index.js';
import { buildIndex } from '../../../lib/stages/build-index.js';
import type { Logger } from '../../../lib/stages/types.js';
import { LocalDirStore } from '../../../lib/store/local-dir-store.js';
import { getJson } from '../../../lib/store/store.js';
import { runCli } from '../../support/run-cli.js';
import {
  CORPUS,
  CORPUS_SKIP_REASON,
  compareIndex,
  HAVE_CORPUS,
} from '../../support/shared-corpus.js';

const INPUTS = [
  {
    name: 'dev packages',
    dir: path.join(CORPUS, 'packages'),
    expected: path.join(CORPUS, 'expected', 'opm-v1.8.0-initializer.packages.json'),
  },
  {
    name: 'operator-registry v1.8.0 manifests',
    dir: path.join(CORPUS, 'operator-registry-v1.8.0', 'manifests'),
    expected: path.join(
      CORPUS,
      'expected',
      'opm-v1.8.0-initializer.operator-registry-manifests.json',
    ),
  },
];

describe.skipIf(!HAVE_CORPUS)(
  `index on the reference corpus${HAVE_CORPUS ? '' : ` (${CORPUS_SKIP_REASON})`}`,
  () => {
    let tmp: string;
    beforeAll(async () => {
      tmp = await mkdtemp(path.join(os.tmpdir(), 'corpus-index-'));
    });
    afterAll(async () => {
      await rm(tmp, { recursive: true, force: true });
    });

    describe.each(INPUTS)('$name', ({ name, dir, expected }) => {
      const slug = name.replace(/\W+/g, '-');
      let warnings: IndexWarnings;
      let logged: string[];

      it('the build-index stage writes a DB that compare-index reports as MATCH', async () => {
        const store = new LocalDirStore(path.join(tmp, `store-${slug}`));
        logged = [];
        const log: Logger = {
          debug() {},
          info() {},
          warn: (m) => logged.push(m),
          error: (m) => logged.push(m),
        };
        const result = await buildIndex(
          { buildId: `corpus-${slug}`, manifestDir: dir, sourceDateEpoch: 0 },
          { store, log },
        );
        const db = path.join(tmp, `${slug}.db`);
        await writeFile(db, await store.get(result.dbKey));
        const verdict = await compareIndex(expected, db);
        expect(verdict.output).toContain('MATCH');
        expect(verdict.output).not.toContain('DIFFERENT');
        expect(verdict.code, verdict.output).toBe(0);
        warnings = await getJson<IndexWarnings>(store, result.warningsKey);
        expect(result.warningCount).toBe(warnings.problems.length + warnings.decoding.length);
      });

      it('warns exactly as upstream did', () => {
        expect(warnings, 'the stage test above must run first').toBeDefined();
        if (name !== 'dev packages') {
          expect(warnings.problems).toEqual([]);
          expect(warnings.summary).toBeUndefined();
          expect(logged).toEqual([]);
          return;
        }
        const about = (p: Problem) =>
          p.subject.startsWith('buildv2-operator') ? 'buildv2-operator' : p.subject;
        expect([...new Set(warnings.problems.map(about))]).toEqual([
          'buildv2-operator',
          'spinnaker-operator',
        ]);
        for (const p of warnings.problems.filter((x) => about(x) === 'buildv2-operator')) {
          expect(p.message).toMatch(
            /registered for version "apiextensions\.k8s\.io\/v1"|FOREIGN KEY constraint failed, no default channel specified for buildv2-operator/,
          );
        }
        expect(warnings.problems.find((p) => p.subject === 'spinnaker-operator')?.message).toBe(
          "[spinnaker-operator.v1.17.4 specifies replacement that couldn't be found, spinnaker-operator.v1.17.2 specifies replacement that couldn't be found]",
        );
        expect(warnings.decoding).toEqual([]);
        expect(warnings.summary).toMatch(/^error building database: \[/);
        expect(logged).toEqual([warnings.summary]);
      });

      it('`catalog-build --manifest-dir … --to-db …` writes a DB that compare-index reports as MATCH', async () => {
        const db = path.join(tmp, `cli-${slug}.db`);
        const res = await runCli([
          '--manifest-dir',
          dir,
          '--to-db',
          db,
          '--store',
          path.join(tmp, `cli-store-${slug}`),
        ]);
        expect(res.code, res.stderr).toBe(0);
        // Decoded on the CLI's second thread, not in place after a failure of it.
        expect(res.stderr).not.toContain('second thread');
        const verdict = await compareIndex(expected, db);
        expect(verdict.code, verdict.output).toBe(0);
        expect(verdict.output).toContain('MATCH');
        if (name === 'dev packages') {
          expect(res.stderr).toContain('error building database:');
          expect(res.stderr).toContain('buildv2-operator');
          expect(res.stderr).toContain('spinnaker-operator');
        }
        expect((await readFile(db)).subarray(0, 16).toString('latin1')).toBe(
          'SQLite format 3\u0000',
        );
      });
    });
  },
);
