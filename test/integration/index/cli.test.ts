// `catalog-build` as a user runs it (a child process, from source) for offline DB builds:
// the sample manifests give a 2-package DB and a summary on stderr; bad directories exit 1
// with the reason; usage errors exit 2; SOURCE_DATE_EPOCH makes the DB reproducible, whether
// the manifests were decoded on a second thread or (one CPU) on the main one.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSqlJs } from '../../../lib/index/sqljs.js';
import { type CliRun, runCli } from '../../support/run-cli.js';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'cli-index-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function query(dbFile: string, sql: string): Promise<unknown[][]> {
  const SQL = await loadSqlJs();
  const db = new SQL.Database(await readFile(dbFile));
  try {
    return db.exec(sql)[0]?.values ?? [];
  } finally {
    db.close();
  }
}

const build = (
  name: string,
  extra: string[] = [],
  env: Record<string, string | undefined> = {},
  wrapper: string[] = [],
): Promise<CliRun> =>
  runCli(
    [
      '--manifest-dir',
      'examples/manifests',
      '--to-db',
      path.join(tmp, name, 'x.db'),
      '--store',
      path.join(tmp, name, 'store'),
      ...extra,
    ],
    env,
    wrapper,
  );

describe('catalog-build --manifest-dir --to-db', () => {
  it("accepts oc's --skip-verification but says digests are still verified", async () => {
    const res = await build('skip', ['--skip-verification']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toContain(
      '--skip-verification is accepted for oc compatibility; digests are always verified',
    );
  });

  it('builds the sample manifests into a DB with their two packages and prints a summary', async () => {
    const res = await build('sample');
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toMatch(/index: 2 packages, 3 channels, 4 bundles, 0 warnings/);
    expect(res.stderr).toContain(`database: ${path.join(tmp, 'sample', 'x.db')}`);
    expect(res.stdout).toBe('');
    const db = path.join(tmp, 'sample', 'x.db');
    expect(await query(db, 'SELECT name, default_channel FROM package ORDER BY name')).toEqual([
      ['hello-operator', 'stable'],
      ['todo-operator', 'beta'],
    ]);
    expect(await query(db, 'SELECT version FROM schema_migrations')).toEqual([[7]]);
  });

  it('writes byte-identical DBs for the same SOURCE_DATE_EPOCH, stamped with it', async () => {
    const a = await build('epoch-a', [], { SOURCE_DATE_EPOCH: '0' });
    const b = await build('epoch-b', [], { SOURCE_DATE_EPOCH: '0' });
    expect([a.code, b.code]).toEqual([0, 0]);
    const bytesA = await readFile(path.join(tmp, 'epoch-a', 'x.db'));
    const bytesB = await readFile(path.join(tmp, 'epoch-b', 'x.db'));
    expect(bytesA.length).toBeGreaterThan(0);
    expect(bytesA.equals(bytesB)).toBe(true);
    expect(
      await query(path.join(tmp, 'epoch-a', 'x.db'), 'SELECT timestamp FROM schema_migrations'),
    ).toEqual([['1970-01-01 00:00:00']]);
  });

  it('decodes on the main thread when only one CPU is there (taskset -c 0), to the same DB', async () => {
    const one = await build('one-cpu', ['-v'], { SOURCE_DATE_EPOCH: '0' }, ['taskset', '-c', '0']);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stderr).toContain(
      'debug: decoding manifests on the main thread (one CPU available)',
    );
    const any = await build('any-cpus', ['-v'], { SOURCE_DATE_EPOCH: '0' });
    expect(any.code, any.stderr).toBe(0);
    expect(any.stderr).toContain(
      os.availableParallelism() > 1
        ? 'debug: decoding manifests on a second thread'
        : 'debug: decoding manifests on the main thread (one CPU available)',
    );
    expect(await readFile(path.join(tmp, 'one-cpu', 'x.db'))).toEqual(
      await readFile(path.join(tmp, 'any-cpus', 'x.db')),
    );
  });

  it('exits 1 naming a missing manifests directory', async () => {
    const missing = path.join(tmp, 'does-not-exist');
    const res = await runCli([
      '--manifest-dir',
      missing,
      '--to-db',
      path.join(tmp, 'm.db'),
      '--store',
      path.join(tmp, 'm'),
    ]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`reading manifests directory ${missing}: no such directory`);
  });

  it('exits 1 for a directory without any file', async () => {
    const empty = path.join(tmp, 'empty', 'sub');
    await mkdir(empty, { recursive: true });
    const res = await runCli([
      '--manifest-dir',
      path.dirname(empty),
      '--to-db',
      path.join(tmp, 'e.db'),
      '--store',
      path.join(tmp, 'e'),
    ]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('no manifest files found');
  });

  it('exits 2 before any work when --to-db cannot be written (a file where a directory is)', async () => {
    const blocker = path.join(tmp, 'blocker');
    await writeFile(blocker, 'a file where a directory is needed');
    const res = await runCli([
      '--manifest-dir',
      'examples/manifests',
      '--to-db',
      path.join(blocker, 'x.db'),
      '--store',
      path.join(tmp, 'b'),
    ]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(
      /^error: checking the build's prerequisites: --to-db .*blocker\/x\.db: a part of the path is not a directory \(ENOTDIR\)/m,
    );
    expect(res.stderr).not.toContain('report');
  });

  it('exits 2 without a source (upstream requires --appregistry-org)', async () => {
    const res = await runCli(['--store', path.join(tmp, 'n')]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('error: app-registry org (namespace) must be specified');
    expect(res.stderr).toContain('See "catalog-build --help" for usage.');
  });

  it('exits 2 on an unknown flag, worded like pflag', async () => {
    const res = await runCli(['--manifest-dir', 'examples/manifests', '--no-such-flag']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('error: unknown flag: --no-such-flag');
  });
});
