// Every bundle image of the reference OCI layout, read without a daemon and rendered: the
// olm.bundle objects must equal what `opm render` v1.26.5 wrote for the same images. The
// images are named as if pushed to 127.0.0.1:5000 (the host sorts among related images
// exactly as the one upstream rendered against, before it was rewritten to bundles.example).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseBundleFormat } from '../../../lib/catalog/bundle-format.js';
import { renderBundle } from '../../../lib/catalog/render-bundle.js';
import { pullBundleImage } from '../../../lib/catalog-source/bundle-image.js';
import { openImageSource } from '../../../lib/layout/image-ports.js';
import { OciLayout, REF_NAME_ANNOTATION } from '../../../lib/layout/oci-layout.js';
import {
  BUNDLES_LAYOUT,
  BUNDLES_TITLE_NOTE,
  compareFbc,
  EXPECTED_IMAGE_HOST,
  EXPECTED_RENDER,
  HAVE_BUNDLES_CORPUS,
} from '../../support/bundles-corpus.js';

const HOST = '127.0.0.1:5000/';
let dir: string | undefined;
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!HAVE_BUNDLES_CORPUS)(
  `bundle images of the reference layout${BUNDLES_TITLE_NOTE}`,
  () => {
    it('render like opm render v1.26.5, every one of the 473', async () => {
      const layout = new OciLayout(BUNDLES_LAYOUT);
      const tags = (await layout.readIndex()).manifests
        .map((d) => d.annotations?.[REF_NAME_ANNOTATION] ?? '')
        .sort();
      const ports = {
        registry: () => Promise.reject(new Error('an OCI layout needs no registry')),
      };
      expect(tags).toHaveLength(473);
      let out = '';
      for (const tag of tags) {
        const source = openImageSource({ kind: 'oci', dir: BUNDLES_LAYOUT, tag }, ports);
        const image = await pullBundleImage(source, HOST + tag);
        const bundle = parseBundleFormat(image.files, image.ref);
        out += `${JSON.stringify(renderBundle(bundle, image.ref), null, 4)}\n`;
      }
      dir = await mkdtemp(path.join(tmpdir(), 'render-layout-'));
      const file = path.join(dir, 'render.json');
      await writeFile(file, out);
      const verdict = await compareFbc(EXPECTED_RENDER, file, [
        '--map-image',
        `${EXPECTED_IMAGE_HOST}=${HOST}`,
      ]);
      expect(verdict.output).toContain('MATCH');
      expect(verdict.code).toBe(0);
    }, 120_000);
  },
);
