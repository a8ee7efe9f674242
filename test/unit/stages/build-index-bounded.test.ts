// The build-index stage result is what the state machine carries on (`$.index`) into
// AssembleImage, PushImage and Report, under Step Functions' 256 KB payload limit: it must
// stay the same small size whatever the catalog's size. An FBC catalog has a file per
// package plus its serve cache, so the file list goes to the store and the result keeps
// only its key, count and bytes. Two synthetic catalogs, one eight times the other, show it.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IndexFormat } from '../../../lib/index/catalog-formats.js';
import { buildIndex } from '../../../lib/stages/build-index.js';
import { type CatalogFileRef, silentLogger } from '../../../lib/stages/types.js';
import { buildKeys } from '../../../lib/store/keys.js';
import { LocalDirStore } from '../../../lib/store/local-dir-store.js';
import { getJson } from '../../../lib/store/store.js';
import { csv, fileTree, pkg } from '../catalog/manifest-builders.js';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'build-index-bounded-'));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

/** `count` packages of two bundles each (a replaces chain), in package-manifest folders. */
async function syntheticCatalog(count: number): Promise<string> {
  const dir = path.join(tmp, `manifests-${count}`);
  const files: Record<string, ReturnType<typeof csv> | string> = {};
  for (let i = 0; i < count; i++) {
    const name = `synthetic-operator-with-a-long-name-${String(i).padStart(5, '0')}`;
    const image = `quay.example/synthetic/${name}@sha256:${String(i).padStart(64, '0')}`;
    const deployments = [{ containers: [image] }];
    files[`${name}/${name}.package.yaml`] = pkg(name, { stable: `${name}.v1.1.0` });
    files[`${name}/1.0.0/${name}.v1.0.0.clusterserviceversion.yaml`] = csv(`${name}.v1.0.0`, {
      version: '1.0.0',
      deployments,
    });
    files[`${name}/1.1.0/${name}.v1.1.0.clusterserviceversion.yaml`] = csv(`${name}.v1.1.0`, {
      version: '1.1.0',
      replaces: `${name}.v1.0.0`,
      deployments,
    });
  }
  for (const f of fileTree(files)) {
    await mkdir(path.join(dir, path.dirname(f.path)), { recursive: true });
    await writeFile(path.join(dir, f.path), f.data);
  }
  return dir;
}

async function build(format: IndexFormat, count: number) {
  const store = new LocalDirStore(path.join(tmp, `store-${format}-${count}`));
  const buildId = `bounded-${format}-${count}`;
  const result = await buildIndex(
    {
      buildId,
      manifestDir: await syntheticCatalog(count),
      sourceDateEpoch: 0,
      indexFormat: format,
    },
    { store, log: silentLogger },
  );
  const files = await getJson<CatalogFileRef[]>(store, result.filesKey);
  return { result, bytes: Buffer.byteLength(JSON.stringify(result)), files, buildId };
}

describe('the build-index stage result stays bounded', () => {
  it.each(['fbc', 'sqlite'] as const)(
    '%s: the same small size for 5 and 40 packages; the file list is in the store',
    async (format) => {
      const small = await build(format, 5);
      const large = await build(format, 40);
      expect(large.result.totals.packages).toBe(40);
      expect(large.result.totals.bundles).toBe(80);
      // The list behind the key holds every file the writer produced, with their bytes.
      expect(large.result.filesKey).toBe(buildKeys(large.buildId).catalogFiles);
      expect(large.files).toHaveLength(large.result.fileCount);
      expect(large.files.reduce((n, f) => n + f.size, 0)).toBe(large.result.fileBytes);
      if (format === 'fbc') {
        // One configs/<package>/catalog.json per package, plus the serve cache.
        const configs = large.files.filter((f) => f.path.startsWith('configs/'));
        expect(configs).toHaveLength(40);
        expect(large.files.length).toBeGreaterThan(small.files.length + 35);
        expect(JSON.stringify(large.files).length).toBeGreaterThan(8 * 1024);
      }
      // The result itself does not grow with the catalog: a few digits of counts at most.
      expect(Math.abs(large.bytes - small.bytes)).toBeLessThan(64);
      expect(large.bytes).toBeLessThan(2 * 1024);
      expect(JSON.stringify(large.result)).not.toContain('configs/');
      console.info(
        `[limits] build-index result (${format}): ${small.bytes} B for 5 packages (${small.files.length} files), ${large.bytes} B for 40 (${large.files.length} files, list ${Buffer.byteLength(JSON.stringify(large.files))} B in the store)`,
      );
    },
    60_000,
  );
});
