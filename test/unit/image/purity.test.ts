// lib/image is pure (CONTRIBUTING): no file system, network, undici or AWS SDK imports, so it
// runs the same in Lambda, the CLI and tests.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../support/shared-corpus.js';

const FORBIDDEN =
  /from\s+['"](?:node:)?(?:fs|fs\/promises|http|https|http2|net|tls|dgram|child_process)['"]|from\s+['"](?:undici|@aws-sdk\/[^'"]+)['"]/;

describe('lib/image purity', () => {
  const dir = path.join(REPO_ROOT, 'lib', 'image');
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
  it('has modules to check', () => expect(files.length).toBeGreaterThan(5));
  it.each(files)('%s imports no I/O', (f) => {
    expect(readFileSync(path.join(dir, f), 'utf8')).not.toMatch(FORBIDDEN);
  });
});
