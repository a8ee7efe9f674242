// The layout rule of docs/CONTRIBUTING.md, enforced: lib/catalog, lib/index, lib/image and
// lib/archive are pure (no file system, network, undici or AWS SDK), the adapters (lib/http, lib/registry,
// lib/layout, lib/appregistry, lib/store) import nothing from lib/stages, the stages do not
// import each other (shared things live in a lower room), and lib/http — the policy every
// HTTP client shares — imports no other adapter, and nothing in lib imports functions/ (the
// handlers sit above the library). Imports are read from the source text: static `import … from`, `export … from`, bare `import '…'` and `import('…')`.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/shared-corpus.js';

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(full));
    else if (/\.(ts|mts|js|mjs)$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm;

function importsOf(source: string): string[] {
  return [...source.matchAll(IMPORT)].map((m) => m[1]!);
}

const IO_MODULE =
  /^(?:node:)?(?:fs|fs\/promises|http|https|http2|net|tls|dgram|dns|child_process)$|^undici(?:\/|$)|^@aws-sdk\//;

function scan(dirs: string[]) {
  const files = dirs.flatMap((d) => sourceFiles(path.join(REPO_ROOT, d)));
  return files.map((f) => ({
    file: path.relative(REPO_ROOT, f),
    imports: importsOf(readFileSync(f, 'utf8')),
  }));
}

describe('import scanner', () => {
  it('finds every import form', () => {
    const src = [
      "import fs from 'node:fs';",
      'import { request } from "undici";',
      "import type { X } from '@aws-sdk/client-s3';",
      "export { y } from '../stages/types.js';",
      "import 'side-effect';",
      "const m = await import('node:http');",
      '// not an import: from the start',
    ].join('\n');
    expect(importsOf(src)).toEqual([
      'node:fs',
      'undici',
      '@aws-sdk/client-s3',
      '../stages/types.js',
      'side-effect',
      'node:http',
    ]);
  });

  it('classifies I/O modules', () => {
    for (const m of [
      'fs',
      'node:fs',
      'node:fs/promises',
      'http',
      'node:https',
      'node:net',
      'undici',
      '@aws-sdk/client-s3',
    ]) {
      expect(IO_MODULE.test(m), m).toBe(true);
    }
    for (const m of [
      'node:zlib',
      'node:crypto',
      'node:stream',
      'js-yaml',
      'sql.js',
      './fs-like.js',
    ]) {
      expect(IO_MODULE.test(m), m).toBe(false);
    }
  });
});

describe('pure modules: lib/catalog, lib/index, lib/image, lib/archive', () => {
  const scanned = scan(['lib/catalog', 'lib/index', 'lib/image', 'lib/archive']);

  it('has files to check in each directory', () => {
    for (const dir of ['lib/catalog/', 'lib/index/', 'lib/image/']) {
      expect(scanned.filter((s) => s.file.startsWith(dir)).length, dir).toBeGreaterThan(2);
    }
    expect(scanned.filter((s) => s.file.startsWith('lib/archive/')).length).toBeGreaterThan(1);
  });

  it('import no file system, network, undici or AWS SDK module', () => {
    const offending = scanned.flatMap((s) =>
      s.imports.filter((i) => IO_MODULE.test(i)).map((i) => `${s.file} imports ${i}`),
    );
    expect(offending).toEqual([]);
  });
});

describe('adapters: lib/http, lib/registry, lib/layout, lib/appregistry, lib/store', () => {
  const scanned = scan(['lib/http', 'lib/registry', 'lib/layout', 'lib/appregistry', 'lib/store']);

  it('has files to check', () => {
    expect(scanned.length).toBeGreaterThan(10);
  });

  it('import nothing from lib/stages', () => {
    const offending = scanned.flatMap((s) =>
      s.imports
        .filter(
          (i) =>
            i.startsWith('.') &&
            path
              .resolve(REPO_ROOT, path.dirname(s.file), i)
              .startsWith(path.join(REPO_ROOT, 'lib', 'stages')),
        )
        .map((i) => `${s.file} imports ${i}`),
    );
    expect(offending).toEqual([]);
  });
});

describe('lib/http: the shared HTTP policy', () => {
  const scanned = scan(['lib/http']);

  it('imports no other room of lib (every client builds on it, not the reverse)', () => {
    expect(scanned.length).toBeGreaterThan(2);
    // lib/errors.ts and lib/redact.ts sit at the root of lib, below every room: allowed.
    const otherRoom = (target: string) => {
      const rel = path.relative(path.join(REPO_ROOT, 'lib'), target).split(path.sep);
      return rel.length > 1 && rel[0] !== 'http';
    };
    const offending = scanned.flatMap((s) =>
      s.imports
        .filter(
          (i) => i.startsWith('.') && otherRoom(path.resolve(REPO_ROOT, path.dirname(s.file), i)),
        )
        .map((i) => `${s.file} imports ${i}`),
    );
    expect(offending).toEqual([]);
  });
});

describe('lib/stages', () => {
  const scanned = scan(['lib/stages']);

  // The stages themselves; the other files of lib/stages are helpers they share.
  const STAGES = [
    'list-packages',
    'fetch-package',
    'list-bundles',
    'fetch-bundle',
    'build-index',
    'assemble-image',
    'push-image',
    'report',
  ];

  it('a stage never imports another stage (shared things live in a lower room)', () => {
    expect(STAGES.every((s) => scanned.some((f) => f.file === `lib/stages/${s}.ts`))).toBe(true);
    const isStage = (file: string) => STAGES.some((s) => file === `lib/stages/${s}.ts`);
    const offending = scanned
      .filter((s) => isStage(s.file))
      .flatMap((s) =>
        s.imports
          .filter((i) => STAGES.some((st) => i === `./${st}.js`))
          .map((i) => `${s.file} imports ${i}`),
      );
    expect(offending).toEqual([]);
  });
});

describe('lib/ and functions/', () => {
  const scanned = scan(['lib']);

  // The handlers sit above the library; the executable's composition root (functions/local)
  // is the one place that wires both together.
  it('lib never imports functions/', () => {
    expect(scanned.length).toBeGreaterThan(50);
    const functionsDir = path.join(REPO_ROOT, 'functions');
    const offending = scanned.flatMap((s) =>
      s.imports
        .filter((i) => {
          if (!i.startsWith('.')) return false;
          const target = path.resolve(REPO_ROOT, path.dirname(s.file), i);
          return target === functionsDir || target.startsWith(functionsDir + path.sep);
        })
        .map((i) => `${s.file} imports ${i}`),
    );
    expect(offending).toEqual([]);
  });
});
