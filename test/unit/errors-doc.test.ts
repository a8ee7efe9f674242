// docs/ERRORS.md is the list Step Functions users write Retry/Catch against: every error
// name the code can throw must be in it, and every name it lists as temporary must be in
// TEMPORARY_ERROR_NAMES (and the other way round), so the page cannot silently rot.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TEMPORARY_ERROR_NAMES } from '../../lib/errors.js';
import { REPO_ROOT } from '../support/shared-corpus.js';

/** Family bases and internal errors that never leave their module (the tar reader's are
 *  re-thrown by its callers as AppRegistryBlobError / ImageLayersError). */
const NOT_THROWN_AS_IS = new Set([
  'BuilderError',
  'TarError',
  'TarLimitError',
  'AppRegistryError',
  'RegistryError',
  'StoreError',
  'RegistryRequestError',
  'FieldError',
  'PropertyError',
  'GoJsonError',
]);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

const names = new Set<string>();
for (const root of ['lib', 'functions']) {
  for (const file of sourceFiles(path.join(REPO_ROOT, root))) {
    for (const m of readFileSync(file, 'utf8').matchAll(
      /(?:override name = |this\.name = )'([A-Za-z]+Error)'/g,
    )) {
      names.add(m[1]!);
    }
  }
}
const doc = readFileSync(path.join(REPO_ROOT, 'docs', 'ERRORS.md'), 'utf8');
const rows = doc.split('\n').filter((l) => l.startsWith('| `'));

describe('docs/ERRORS.md', () => {
  it('lists every error name the code throws', () => {
    expect(names.size).toBeGreaterThan(30);
    const missing = [...names].filter((n) => !NOT_THROWN_AS_IS.has(n) && !doc.includes(`\`${n}\``));
    expect(missing).toEqual([]);
  });

  it('marks as temporary exactly the names the state machine retries', () => {
    const temporary = rows
      .filter((r) => r.includes('**yes**'))
      .flatMap((r) => [...r.split('|')[1]!.matchAll(/`([A-Za-z]+)`/g)].map((m) => m[1]!));
    expect(new Set(temporary)).toEqual(new Set(TEMPORARY_ERROR_NAMES));
  });
});
