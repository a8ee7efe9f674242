// The bundle-format reference corpus (../shared/corpus/bundles-dev): 473 bundles of 30
// packages as folders and as an OCI layout of bundle images, with what opm v1.26.5 makes of
// them. Tests read it in place (never copied) and skip with this message when it is absent.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { splitJsonStream } from '../../lib/index/fbc-read.js';
import { SHARED } from './shared-corpus.js';

export const BUNDLES_CORPUS = path.join(SHARED, 'corpus', 'bundles-dev');
export const BUNDLES_PACKAGES = path.join(BUNDLES_CORPUS, 'packages');
export const BUNDLES_LAYOUT = path.join(BUNDLES_CORPUS, 'images');
export const EXPECTED_RENDER = path.join(BUNDLES_CORPUS, 'expected', 'opm-v1.26.5-render.json');
export const EXPECTED_REGISTRY_ADD = path.join(
  BUNDLES_CORPUS,
  'expected',
  'opm-v1.26.5-registry-add.migrate',
);
export const HAVE_BUNDLES_CORPUS = existsSync(path.join(BUNDLES_LAYOUT, 'index.json'));
export const BUNDLES_SKIP_REASON = `../shared/corpus/bundles-dev is absent (looked in ${BUNDLES_CORPUS}); bundle corpus tests skipped`;
/** Appended to a suite's title: the skip reason, only when the suite is skipped. */
export const BUNDLES_TITLE_NOTE = HAVE_BUNDLES_CORPUS ? '' : ` (${BUNDLES_SKIP_REASON})`;
/** The host the expected files were rendered against, rewritten to bundles.example. */
export const EXPECTED_IMAGE_HOST = 'bundles.example/';
export const COMPARE_FBC = path.join(SHARED, 'tools', 'compare-fbc');

if (!HAVE_BUNDLES_CORPUS) console.warn(`[corpus] ${BUNDLES_SKIP_REASON}`);

/** compare-fbc's verdict; exit 1 (DIFFERENT) is returned with the report, not thrown. */
export async function compareFbc(
  expected: string,
  actual: string,
  args: string[] = [],
): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      'python3',
      [COMPARE_FBC, ...args, expected, actual],
      { maxBuffer: 16 * 1024 * 1024 },
    );
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** The JSON objects of a file holding a stream of them (as `opm render` and `opm migrate` write). */
export function readJsonObjects(file: string): Record<string, unknown>[] {
  return splitJsonStream(readFileSync(file, 'utf8')).map((t) => JSON.parse(t));
}

/** The expected catalog as it is without bundle images: image "", bundle image not related. */
export function withoutImages(src: string, dst: string): void {
  for (const pkg of readdirSync(src)) {
    mkdirSync(path.join(dst, pkg), { recursive: true });
    const out = readJsonObjects(path.join(src, pkg, 'catalog.json')).map((o) => {
      if (o.schema !== 'olm.bundle') return o;
      const image = o.image as string;
      const related = ((o.relatedImages as { image: string }[] | undefined) ?? []).filter(
        (r) => r.image !== image,
      );
      const { relatedImages: _, ...rest } = o;
      return { ...rest, image: '', ...(related.length > 0 ? { relatedImages: related } : {}) };
    });
    writeFileSync(
      path.join(dst, pkg, 'catalog.json'),
      out.map((o) => JSON.stringify(o)).join('\n'),
    );
  }
}
