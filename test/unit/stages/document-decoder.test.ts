// The decoding thread (WorkerDocumentDecoder) against the load's own in-place decoding: every
// document it hands back is the one decodeFirstDocument gives, hostile ones included; parts
// come back in order, whole; a file it cannot read is left to the load, which names it; a
// thread that dies is said once and the load goes on in place; it never runs further ahead of
// the load than its byte budget. A real worker thread each time (loaded through tsx here).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileTree, TreeFile } from '../../../lib/catalog/file-tree.js';
import { loadManifestDir, loadManifestDirInParts } from '../../../lib/catalog/load-manifest-dir.js';
import {
  DEFAULT_DOCUMENT_LIMITS,
  type DocumentLimits,
  decodeFirstDocument,
} from '../../../lib/catalog/yaml-document.js';
import { WorkerDocumentDecoder } from '../../../lib/stages/document-decoder.js';
import { lazyManifestDir, ManifestDirError } from '../../../lib/store/manifest-dir.js';
import {
  billionLaughsCsv,
  deepBlock,
  deepFlow,
  packageYaml,
  recursiveAlias,
} from '../../fixtures/hostile/documents.js';

const enc = (s: string) => new TextEncoder().encode(s);

/** Documents of every kind the decoder must give back exactly. */
const DOCUMENTS: Record<string, Uint8Array> = {
  'csv.yaml': enc(
    'apiVersion: operators.coreos.com/v1alpha1\nkind: ClusterServiceVersion\nmetadata:\n  name: a.v1.0.0\nspec:\n  version: 1.0.0\n  replicas: 3\n  flag: yes\n  when: 2020-01-01\n  big: 9223372036854775807\n  huge: 99999999999999999999999\n  neg: -0\n  nothing: ~\n',
  ),
  'json.json': enc('{"kind":"Thing","a":[1,2,{"b":null}]}\n{"ignored":true}'),
  'two-docs.yaml': enc('---\n---\nkind: First\n---\nkind: Second\n'),
  'bom.yaml': new Uint8Array([0xef, 0xbb, 0xbf, ...enc('kind: Bom\n')]),
  'empty.yaml': enc(''),
  'broken.yaml': enc('kind: [unclosed\n'),
  'latin1.yaml': new Uint8Array([...enc('kind: Caf'), 0xe9, 0x0a]),
  'laughs.yaml': enc(billionLaughsCsv()),
  'deep-flow.yaml': enc(`kind: Deep\nspec: ${deepFlow(120)}\n`),
  'deep-block.yaml': enc(deepBlock(150)),
  'recursive.yaml': enc(recursiveAlias),
  // ~7 KB once its aliases are expanded: over TIGHT's limit only.
  'anchors.yaml': enc(`kind: A\nx: &x "${'y'.repeat(1000)}"\nl: [*x, *x, *x, *x, *x, *x]\n`),
  'package.yaml': enc(packageYaml('a', 'a.v1.0.0')),
};

/** Tight limits, so that some documents go over them (the thread must use the load's). */
const TIGHT: DocumentLimits = { ...DEFAULT_DOCUMENT_LIMITS, maxExpandedBytes: 4096 };

async function collect(parts: AsyncIterable<FileTree>): Promise<TreeFile[][]> {
  const out: TreeFile[][] = [];
  for await (const p of parts) out.push([...p]);
  return out;
}

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'document-decoder-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('WorkerDocumentDecoder', () => {
  it.each([
    ['default', DEFAULT_DOCUMENT_LIMITS],
    ['tight', TIGHT],
  ])(
    'gives every document exactly as decodeFirstDocument does (%s limits), in part order',
    async (_, limits) => {
      // Bytes as views into one bigger buffer (as a package blob's files are), and local files.
      const names = Object.keys(DOCUMENTS);
      const blob = new Uint8Array(names.reduce((n, k) => n + DOCUMENTS[k]!.length + 7, 0));
      let at = 0;
      const inMemory: TreeFile[] = names.map((name) => {
        const bytes = DOCUMENTS[name]!;
        blob.set(bytes, at + 7);
        const data = blob.subarray(at + 7, at + 7 + bytes.length);
        at += bytes.length + 7;
        return { path: `mem/${name}`, data };
      });
      const onDisk: TreeFile[] = [];
      for (const name of names) {
        const file = path.join(tmp, `disk-${name}`);
        await writeFile(file, DOCUMENTS[name]!);
        onDisk.push({
          path: `disk/${name}`,
          source: file,
          get data(): Uint8Array {
            throw new Error('the thread reads a local file itself');
          },
        });
      }
      // 300 parts: more than the thread is asked for ahead at once.
      const parts: FileTree[] = Array.from({ length: 300 }, (_, i) =>
        i % 2 === 0 ? inMemory.slice(i % names.length) : onDisk.slice(0, 1 + (i % names.length)),
      );
      const decoder = new WorkerDocumentDecoder({
        warn: (m) => {
          throw new Error(`unexpected warning: ${m}`);
        },
      });
      try {
        const back = await collect(decoder.decodeParts(parts, limits));
        expect(back.map((p) => p.map((f) => f.path))).toEqual(
          parts.map((p) => p.map((f) => f.path)),
        );
        for (const [i, part] of back.entries())
          for (const [j, file] of part.entries()) {
            const name = path.basename(file.path);
            expect(file.document, `${i}/${file.path}`).toEqual(
              decodeFirstDocument(DOCUMENTS[name]!, limits),
            );
            if (i % 2 === 0) expect(file.data).toBe(parts[i]![j]!.data);
          }
        // The hostile ones are there, as limit results, not crashes.
        const results = back[0]!.map((f) => f.document!);
        expect(
          results.filter((r) => !r.ok && r.limit === 'DocumentLimitError').length,
        ).toBeGreaterThan(0);
        expect(back[0]!.find((f) => f.path === 'mem/bom.yaml')!.document).toEqual({
          ok: true,
          value: { kind: 'Bom' },
        });
        const csv = back[0]!.find((f) => f.path === 'mem/csv.yaml')!.document!;
        expect(csv.ok && (csv.value as { spec: { big: unknown } }).spec.big).toBe(
          9223372036854775807n,
        );
      } finally {
        await decoder.close();
      }
    },
  );

  it('leaves a file it cannot read to the load, which names it as it always did', async () => {
    const dir = path.join(tmp, 'vanishing');
    await mkdir(path.join(dir, 'pkg', '1.0.0'), { recursive: true });
    await writeFile(path.join(dir, 'pkg', 'package.yaml'), packageYaml('pkg', 'pkg.v1.0.0'));
    await writeFile(path.join(dir, 'pkg', '1.0.0', 'csv.yaml'), DOCUMENTS['csv.yaml']!);
    const { files } = await lazyManifestDir(dir);
    await rm(path.join(dir, 'pkg', '1.0.0', 'csv.yaml'));
    const decoder = new WorkerDocumentDecoder();
    const sink = { addBundle: async () => {}, addPackage: async () => {} };
    try {
      const err = await loadManifestDirInParts(files, sink, { decoder }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ManifestDirError);
      expect((err as Error).message).toMatch(
        /^reading manifests directory .*: reading pkg\/1\.0\.0\/csv\.yaml: ENOENT/,
      );
    } finally {
      await decoder.close();
    }
  });

  it('loads a manifests directory to the same catalog as decoding in place', async () => {
    const { files } = await lazyManifestDir(path.resolve('examples/manifests'));
    const decoder = new WorkerDocumentDecoder();
    try {
      const threaded = await loadManifestDir(files, { decoder });
      const inPlace = await loadManifestDir(files);
      expect(threaded.catalog.bundles.length).toBeGreaterThan(0);
      expect(threaded).toEqual(inPlace);
    } finally {
      await decoder.close();
    }
  });

  it('says once when the thread dies, and the load decodes the rest in place', async () => {
    const warnings: string[] = [];
    const decoder = new WorkerDocumentDecoder({ warn: (m) => warnings.push(m) });
    const parts: FileTree[] = Array.from({ length: 20 }, (_, i) => [
      { path: `p${i}/csv.yaml`, data: DOCUMENTS['csv.yaml']! },
    ]);
    const back: TreeFile[][] = [];
    try {
      for await (const part of decoder.decodeParts(parts, DEFAULT_DOCUMENT_LIMITS)) {
        back.push([...part]);
        // The thread dies after the first part (what an out-of-memory kill would do).
        if (back.length === 1)
          await (
            decoder as unknown as { thread: { worker: { terminate(): Promise<number> } } }
          ).thread.worker.terminate();
      }
    } finally {
      await decoder.close();
    }
    expect(back).toHaveLength(20);
    expect(back[0]![0]!.document).toEqual(decodeFirstDocument(DOCUMENTS['csv.yaml']!));
    expect(back.at(-1)![0]!.document).toBeUndefined();
    expect(back.at(-1)![0]!.data).toBe(parts.at(-1)![0]!.data);
    expect(warnings).toEqual([
      'decoding manifests on a second thread: the thread exited with code 1; decoding them on the main thread',
    ]);
  });

  it('runs at most its byte budget ahead of the load', async () => {
    // 40 local files of 1 MiB each; the load takes one part and stops taking.
    const big = enc(`kind: Big\ndata: ${'x'.repeat(1024 * 1024)}\n`);
    const parts: FileTree[] = [];
    for (let i = 0; i < 40; i++) {
      const file = path.join(tmp, `big-${i}.yaml`);
      await writeFile(file, big);
      parts.push([{ path: `big/${i}.yaml`, source: file, data: new Uint8Array() }]);
    }
    const decoder = new WorkerDocumentDecoder();
    try {
      const it = decoder.decodeParts(parts, DEFAULT_DOCUMENT_LIMITS)[Symbol.asyncIterator]();
      expect((await it.next()).value?.[0]?.document?.ok).toBe(true);
      // Wait until the thread stops posting (it blocks on its budget), then count.
      let posted = -1;
      for (
        let seen = decoder.progress().posted;
        seen !== posted;
        seen = decoder.progress().posted
      ) {
        posted = seen;
        await new Promise((r) => setTimeout(r, 300));
      }
      expect(decoder.progress()).toEqual({ posted: 17, taken: 1 });
      await it.return?.();
    } finally {
      await decoder.close();
    }
  });
});
