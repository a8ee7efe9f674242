// The whole bundle corpus as a catalog, written by the fbc writer and compared with what
// `opm registry add` (replaces mode) + `opm migrate` v1.26.5 made of the same 473 bundle
// images. mercury-operator is left out on both sides: upstream's result for it depends on Go
// map order (our deterministic choice is tested in bundle-packages.test.ts).
// - From the images (read from the reference OCI layout, named as pushed to 127.0.0.1:5000):
//   compared as is, bundle image references mapped.
// - From the folders: the same catalog without images, so the expected catalog is compared
//   with `image` set to "" and the bundle image removed from each bundle's relatedImages
//   (nothing else is changed).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type BundleInput, loadBundleCatalog } from '../../../lib/catalog/bundle-catalog.js';
import { parseBundleFormat } from '../../../lib/catalog/bundle-format.js';
import { loadManifestDir } from '../../../lib/catalog/load-manifest-dir.js';
import type { LoadedCatalog } from '../../../lib/catalog/model.js';
import { pullBundleImage } from '../../../lib/catalog-source/bundle-image.js';
import { createCatalogWriter } from '../../../lib/index/catalog-formats.js';
import { writeCatalog } from '../../../lib/index/catalog-writer.js';
import { openImageSource } from '../../../lib/layout/image-ports.js';
import { OciLayout, REF_NAME_ANNOTATION } from '../../../lib/layout/oci-layout.js';
import { readManifestDir } from '../../../lib/store/manifest-dir.js';
import {
  BUNDLES_LAYOUT,
  BUNDLES_PACKAGES,
  BUNDLES_TITLE_NOTE,
  compareFbc,
  EXPECTED_IMAGE_HOST,
  EXPECTED_REGISTRY_ADD,
  HAVE_BUNDLES_CORPUS,
  withoutImages,
} from '../../support/bundles-corpus.js';

const HOST = '127.0.0.1:5000/';
const tmp = mkdtempSync(path.join(os.tmpdir(), 'bundles-fbc-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function writeFbcTo(catalog: LoadedCatalog, dir: string): Promise<void> {
  const writer = await createCatalogWriter('fbc', {
    migratedAt: new Date(0),
    output: {
      async writeFile(rel, data) {
        const file = path.join(dir, rel);
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, data);
      },
    },
  });
  await writeCatalog(writer, catalog);
}

describe.skipIf(!HAVE_BUNDLES_CORPUS)(
  `the bundle corpus as an FBC catalog${BUNDLES_TITLE_NOTE}`,
  () => {
    it('from the bundle images: equals opm registry add + opm migrate', async () => {
      const layout = new OciLayout(BUNDLES_LAYOUT);
      const tags = (await layout.readIndex()).manifests
        .map((d) => d.annotations?.[REF_NAME_ANNOTATION] ?? '')
        .sort();
      const ports = {
        registry: () => Promise.reject(new Error('an OCI layout needs no registry')),
      };
      const inputs: BundleInput[] = [];
      for (const tag of tags) {
        const source = openImageSource({ kind: 'oci', dir: BUNDLES_LAYOUT, tag }, ports);
        const image = await pullBundleImage(source, HOST + tag);
        inputs.push({
          where: image.ref,
          image: image.ref,
          bundle: parseBundleFormat(image.files, image.ref),
        });
      }
      const built = loadBundleCatalog(inputs, 'v1.26.5');
      expect(built.catalog.problems).toEqual([]);
      expect(built.warnings).toEqual([
        expect.stringMatching(
          /^package mercury-operator: its newest bundle mercury-operator.v1.0.2 has no default-channel annotation/,
        ),
      ]);
      const out = path.join(tmp, 'images');
      await writeFbcTo(built.catalog, out);
      const verdict = await compareFbc(EXPECTED_REGISTRY_ADD, path.join(out, 'configs'), [
        '--map-image',
        `${EXPECTED_IMAGE_HOST}=${HOST}`,
        '--skip-package',
        'mercury-operator',
      ]);
      expect(verdict.output).toContain(
        'olm.bundle                288      288        0          0        0  ok',
      );
      expect(verdict.code).toBe(0);
    }, 180_000);

    it('from the folders (--manifest-dir): the same catalog with image ""', async () => {
      const loaded = await loadManifestDir(await readManifestDir(BUNDLES_PACKAGES), {
        rules: 'v1.26.5',
      });
      expect(loaded.formats).toEqual({
        bundleFolders: 473,
        bundlePackages: 30,
        packageManifestFiles: 0,
      });
      const out = path.join(tmp, 'folders');
      await writeFbcTo(loaded.catalog, out);
      const expected = path.join(tmp, 'expected-without-images');
      withoutImages(EXPECTED_REGISTRY_ADD, expected);
      const verdict = await compareFbc(expected, path.join(out, 'configs'), [
        '--skip-package',
        'mercury-operator',
      ]);
      expect(verdict.output).toContain(
        'olm.channel                78       78        0          0        0  ok',
      );
      expect(verdict.code).toBe(0);
    }, 180_000);
  },
);
