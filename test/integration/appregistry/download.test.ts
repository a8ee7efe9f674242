// App Registry end to end, with real parts only: our server serving the dev corpus on
// 127.0.0.1, the client, the list/fetch stages writing into a LocalDirStore, the decoder,
// and the lead's catalog loader + index writer checked by ../shared/tools/compare-index.
// Proves: what arrives decodes to exactly the corpus files (so the DB matches a build from
// the directory), a second run downloads 0 blobs, failures are aggregated per package, and
// hostile blobs produce warnings while nothing is written outside the store.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppRegistryClient } from '../../../lib/appregistry/client.js';
import { decodePackageBlob } from '../../../lib/appregistry/decode.js';
import { AppRegistryPackagesFailedError } from '../../../lib/appregistry/errors.js';
import { buildPackagesJson } from '../../../lib/appregistry/packages-json.js';
import { type AppRegistryServer, startAppRegistryServer } from '../../../lib/appregistry/server.js';
import { compareWalkOrder, type TreeFile } from '../../../lib/catalog/file-tree.js';
import { loadCatalog } from '../../../lib/catalog/load-catalog.js';
import { TEMPORARY_ERROR_NAMES } from '../../../lib/errors.js';
import { loadSqlJs } from '../../../lib/index/sqljs.js';
import { writeIndex } from '../../../lib/index/write-index.js';
import { fetchPackages } from '../../../lib/stages/fetch-package.js';
import { listPackages } from '../../../lib/stages/list-packages.js';
import { type ProgressEvent, silentLogger } from '../../../lib/stages/types.js';
import { LocalDirStore } from '../../../lib/store/local-dir-store.js';
import {
  absolutePathBlob,
  gzipBomb,
  hardlinkBlob,
  nonGzipBody,
  symlinkBlob,
  traversalBlob,
  truncatedGzip,
} from '../../fixtures/appregistry/blobs.js';
import {
  type FaultyAppRegistryServer,
  startFaultyAppRegistryServer,
} from '../../support/appregistry-faults.js';
import {
  CORPUS,
  CORPUS_SKIP_REASON,
  compareIndex,
  EXPECTED_PACKAGES,
  HAVE_CORPUS,
} from '../../support/shared-corpus.js';

const TOKEN = 'basic dGVzdDp0ZXN0';
const work = mkdtempSync(path.join(tmpdir(), 'appr-download-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function readDirTree(root: string, rel = ''): Promise<TreeFile[]> {
  const out: TreeFile[] = [];
  for (const e of await readdir(path.join(root, rel), { withFileTypes: true })) {
    const child = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await readDirTree(root, child)));
    else if (e.isFile()) out.push({ path: child, data: await readFile(path.join(root, child)) });
  }
  return out;
}

const hexOf = (files: readonly TreeFile[]) =>
  [...files]
    .sort((a, b) => compareWalkOrder(a.path, b.path))
    .map((f) => `${f.path} ${Buffer.from(f.data).toString('hex')}`);

describe.skipIf(!HAVE_CORPUS)(
  `the dev corpus through our App Registry server ${HAVE_CORPUS ? '' : CORPUS_SKIP_REASON}`,
  () => {
    let server: FaultyAppRegistryServer;
    const store = new LocalDirStore(path.join(work, 'corpus-store'));
    const source = { endpoint: '', org: 'community' };
    const deps = () => ({ store, log: silentLogger, credentials: { appRegistryToken: TOKEN } });

    beforeAll(async () => {
      server = await startFaultyAppRegistryServer({
        dir: path.join(CORPUS, 'packages'),
        org: 'community',
        token: TOKEN,
      });
      source.endpoint = server.url;
    });
    afterAll(() => server?.stop());

    it('downloads every package once, decodes to exactly the corpus files, and builds a matching DB', async () => {
      const listed = await listPackages({ buildId: 'b1', appRegistry: source }, deps());
      expect(listed.packages).toHaveLength(41);
      const events: ProgressEvent[] = [];
      const first = await fetchPackages(
        { buildId: 'b1', appRegistry: source, packages: listed.packages },
        { ...deps(), progress: (e) => events.push(e) },
      );
      expect(first.every((p) => p.downloaded)).toBe(true);
      expect(server.requests.blob).toBe(41);
      expect(first.flatMap((p) => p.warnings ?? [])).toEqual([]);
      expect(
        events.filter((e) => e.kind === 'download' && e.done && e.cached === false),
      ).toHaveLength(41);

      const files: TreeFile[] = [];
      for (const p of first) files.push(...decodePackageBlob(await store.get(p.key), p.name).files);
      const expected = await readDirTree(path.join(CORPUS, 'packages'));
      expect(files.length).toBe(expected.length);
      expect(hexOf(files)).toEqual(hexOf(expected));

      const pj = buildPackagesJson(source, first);
      expect(Object.keys(pj.packages)).toHaveLength(41);
      expect(pj.packages['etcd']).toEqual({
        '0.9.4': `sha256:${server.packages.get('etcd')!.digest}`,
      });

      const { bytes } = writeIndex(await loadSqlJs(), loadCatalog(files), {
        migratedAt: new Date(0),
      });
      const dbFile = path.join(work, 'from-appregistry.db');
      writeFileSync(dbFile, bytes);
      const verdict = await compareIndex(EXPECTED_PACKAGES, dbFile);
      expect(verdict.output).toContain('MATCH');
      expect(verdict.code).toBe(0);
    });

    it('a second run against the unchanged server downloads 0 blobs', async () => {
      const blobsBefore = server.requests.blob;
      const listed = await listPackages({ buildId: 'b2', appRegistry: source }, deps());
      const events: ProgressEvent[] = [];
      const second = await fetchPackages(
        { buildId: 'b2', appRegistry: source, packages: listed.packages },
        { ...deps(), progress: (e) => events.push(e) },
      );
      expect(second.filter((p) => p.downloaded)).toEqual([]);
      expect(server.requests.blob).toBe(blobsBefore);
      expect(events.filter((e) => e.kind === 'download' && e.cached)).toHaveLength(41);
    });

    it('fails once, after trying every package, naming each failed package and why', async () => {
      const failing = new LocalDirStore(path.join(work, 'failing-store'));
      const listed = await listPackages({ buildId: 'b3', appRegistry: source }, deps());
      server.faults.push(
        { on: 'blob', repository: 'etcd', status: 404 },
        { on: 'blob', repository: 'aqua', corruptBody: true },
      );
      try {
        const err = await fetchPackages(
          { buildId: 'b3', appRegistry: source, packages: listed.packages },
          { ...deps(), store: failing },
        ).catch((e: Error & { failures?: { package: string; name: string }[] }) => e);
        expect(err).toBeInstanceOf(Error);
        const e = err as Error & {
          failures: { package: string; name: string }[];
          temporary: boolean;
        };
        expect(e.name).toBe('AppRegistryPackagesFailedError');
        expect(e.message).toMatch(
          /^downloading packages of org community at http:\/\/127\.0\.0\.1:\d+\/cnr: 2 of 41 packages failed: /,
        );
        expect(e.failures.map((f) => [f.package, f.name]).sort()).toEqual([
          ['aqua', 'AppRegistryDigestMismatchError'],
          ['etcd', 'AppRegistryNotFoundError'],
        ]);
        expect(e.temporary).toBe(false);
        expect(e.message).not.toContain(TOKEN);
        // Every other package was still fetched and stored.
        expect((await failing.list('blobs/sha256/')).length).toBe(39);
      } finally {
        server.faults.length = 0;
      }
      server.faults.push({ on: 'show', repository: 'teiid', status: 503 });
      try {
        // A client whose backoff does not really wait, so the retries cost no test time.
        const appRegistryClient = new AppRegistryClient({
          endpoint: server.url,
          token: TOKEN,
          retry: { sleep: async () => {} },
        });
        const err = await listPackages(
          { buildId: 'b4', appRegistry: source },
          { ...deps(), appRegistryClient },
        ).catch((e: Error) => e);
        await appRegistryClient.close();
        expect(appRegistryClient.stats.retries).toBe(4);
        // Temporary as a whole: named so the state machine's Retry (names only) retries it.
        expect(err).toBeInstanceOf(AppRegistryPackagesFailedError);
        expect((err as Error).name).toBe('AppRegistryPackagesUnavailableError');
        expect(TEMPORARY_ERROR_NAMES).toContain((err as Error).name);
        expect((err as Error & { temporary: boolean }).temporary).toBe(true);
        expect((err as Error).message).toMatch(
          /1 of 41 packages failed: teiid: AppRegistryUnavailableError: showing release 0\.3\.0 of community\/teiid/,
        );
      } finally {
        server.faults.length = 0;
      }
    });
  },
);

describe('hostile blobs served by an App Registry', () => {
  let server: AppRegistryServer;
  const root = path.join(work, 'hostile');
  const store = new LocalDirStore(path.join(root, 'store'));

  beforeAll(async () => {
    const empty = path.join(work, 'no-packages');
    execFileSync('mkdir', ['-p', empty, root]);
    server = await startAppRegistryServer({
      dir: empty,
      org: 'evil',
      extraPackages: [
        { repository: 'traversal', blob: traversalBlob() },
        { repository: 'absolute', blob: absolutePathBlob() },
        { repository: 'symlink', blob: symlinkBlob() },
        { repository: 'hardlink', blob: hardlinkBlob() },
        { repository: 'bomb', blob: gzipBomb(24) },
        { repository: 'truncated', blob: truncatedGzip() },
        { repository: 'not-gzip', blob: nonGzipBody() },
      ],
    });
  });
  afterAll(() => server?.stop());

  it('are stored as verified blobs, reported as warnings naming each package, and nothing lands outside the store', async () => {
    const source = { endpoint: server.url, org: 'evil' };
    const listed = await listPackages(
      { buildId: 'h', appRegistry: source },
      { store, log: silentLogger },
    );
    const fetched = await fetchPackages(
      { buildId: 'h', appRegistry: source, packages: listed.packages },
      { store, log: silentLogger, decodeLimits: { maxTotalBytes: 64 * 1024 * 1024 } },
    );
    const warnings = Object.fromEntries(
      fetched.map((p) => [p.name, (p.warnings ?? []).join('\n')]),
    );
    expect(warnings['traversal']).toMatch(
      /^decoding package traversal: .*leaves the package directory.*AppRegistryUnsafeEntryError/,
    );
    expect(warnings['absolute']).toMatch(/^decoding package absolute: .*absolute path/);
    expect(warnings['symlink']).toMatch(
      /^decoding package symlink: skipped symlink "tmp1234\/0\.1\.0\/passwd\.yaml" -> "\/etc\/passwd"/,
    );
    expect(warnings['hardlink']).toMatch(/^decoding package hardlink: skipped hardlink/);
    expect(warnings['bomb']).toMatch(
      /^decoding package bomb: uncompressed size exceeds .*AppRegistryBlobLimitError/,
    );
    expect(warnings['truncated']).toMatch(/^decoding package truncated: gzip data is truncated/);
    expect(warnings['not-gzip']).toMatch(/^decoding package not-gzip: not gzip data/);
    // The only things written are content-addressed blobs inside the store.
    const written = readdirSync(root, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => path.relative(root, path.join(e.parentPath, e.name)));
    expect(written.sort()).toEqual(fetched.map((p) => path.join('store', p.key)).sort());
    expect(readdirSync(work)).not.toContain('escape.yaml');
    expect(existsSync('/etc/cron.d/escape')).toBe(false);
  });
});
