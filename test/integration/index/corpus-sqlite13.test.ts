// `--index-format sqlite` on the reference corpus (issue 10's "Done when"): the build-index
// stage and the CLI on ../shared/corpus/dev/packages and on the operator-registry v1.8.0
// fixtures, each schema-13 DB checked with ../shared/tools/compare-index against the rows
// operator-registry v1.26.5's initializer wrote (buildv2-operator, with its v1 CRDs, now in),
// the warnings v1.26.5 gave, and the same bytes twice for the same SOURCE_DATE_EPOCH.
// Skips with the shared-corpus message when ../shared is absent.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSqlJs } from '../../../lib/index/sqljs.js';
import type { IndexWarnings } from '../../../lib/stages/build-index.js';
import { buildIndex } from '../../../lib/stages/build-index.js';
import { type CatalogFileRef, silentLogger } from '../../../lib/stages/types.js';
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
    expected: path.join(CORPUS, 'expected', 'opm-v1.26.5-initializer.packages.json'),
  },
  {
    name: 'operator-registry v1.8.0 manifests',
    dir: path.join(CORPUS, 'operator-registry-v1.8.0', 'manifests'),
    expected: path.join(
      CORPUS,
      'expected',
      'opm-v1.26.5-initializer.operator-registry-manifests.json',
    ),
  },
];

describe.skipIf(!HAVE_CORPUS)(
  `schema-13 index on the reference corpus${HAVE_CORPUS ? '' : ` (${CORPUS_SKIP_REASON})`}`,
  () => {
    let tmp: string;
    beforeAll(async () => {
      tmp = await mkdtemp(path.join(os.tmpdir(), 'corpus-sqlite13-'));
    });
    afterAll(async () => {
      await rm(tmp, { recursive: true, force: true });
    });

    describe.each(INPUTS)('$name', ({ name, dir, expected }) => {
      const slug = name.replace(/\W+/g, '-');

      it('the build-index stage writes a DB that compare-index reports as MATCH, warning as v1.26.5', async () => {
        const store = new LocalDirStore(path.join(tmp, `store-${slug}`));
        const result = await buildIndex(
          {
            buildId: `sqlite-${slug}`,
            manifestDir: dir,
            sourceDateEpoch: 0,
            indexFormat: 'sqlite',
          },
          { store, log: silentLogger },
        );
        expect(result.indexFormat).toBe('sqlite');
        const files = await getJson<CatalogFileRef[]>(store, result.filesKey);
        expect(files.map((f) => f.path)).toEqual(['bundles.db']);
        expect(result.fileCount).toBe(1);
        const db = path.join(tmp, `${slug}.db`);
        await writeFile(db, await store.get(result.dbKey));
        const verdict = await compareIndex(expected, db);
        expect(verdict.output).not.toContain('DIFFERENT');
        expect(verdict.code, verdict.output).toBe(0);
        expect(verdict.output).toContain('MATCH');

        const warnings = await getJson<IndexWarnings>(store, result.warningsKey);
        if (name === 'dev packages') {
          // buildv2-operator loads now; only spinnaker's package is rolled back, in v1.26.5's words.
          expect(warnings.problems).toEqual([
            {
              subject: 'spinnaker-operator',
              kind: 'package',
              message:
                '[Invalid bundle spinnaker-operator.v1.17.4, replaces nonexistent bundle opsmx-spinnaker-operator.v1.17.2, Invalid bundle spinnaker-operator.v1.17.2, replaces nonexistent bundle opsmx-spinnaker-operator.v1.13.1]',
            },
          ]);
          expect(result.totals).toEqual({ packages: 40, channels: 52, bundles: 208 });
          expect(result.counts).toMatchObject({ properties: 856, dependencies: 16, deprecated: 0 });
        } else {
          expect(warnings.problems).toEqual([]);
        }
      });

      it('`catalog-build --index-format sqlite --to-db` gives the same DB, byte for byte, twice', async () => {
        const run = async (n: number) => {
          const db = path.join(tmp, `cli-${slug}-${n}.db`);
          const res = await runCli(
            [
              '--manifest-dir',
              dir,
              '--index-format',
              'sqlite',
              '--to-db',
              db,
              '--store',
              path.join(tmp, `cli-store-${slug}-${n}`),
            ],
            { SOURCE_DATE_EPOCH: '1700000000' },
          );
          expect(res.code, res.stderr).toBe(0);
          expect(res.stderr).toMatch(/index \(sqlite\): \d+ packages/);
          return db;
        };
        const first = await run(1);
        const verdict = await compareIndex(expected, first);
        expect(verdict.code, verdict.output).toBe(0);
        const second = await run(2);
        expect((await readFile(second)).equals(await readFile(first))).toBe(true);
        const SQL = await loadSqlJs();
        const db = new SQL.Database(await readFile(first));
        try {
          expect(db.exec('SELECT version, timestamp FROM schema_migrations')[0]?.values).toEqual([
            [13, '2023-11-14 22:13:20'],
          ]);
        } finally {
          db.close();
        }
      });
    });
  },
);
