// Hostile environment, class "permission denied": the CLI run as an unprivileged user (uid
// 65534) writing --to-db, --to-fbc or --store into directories it cannot write. Each is a
// named error (OutputWriteError / StoreWriteError, "permission denied"), exit 1, and what was
// there before is byte-identical. The suite runs as root, to whom every directory is
// writable, so these cases switch user with setpriv; where that is impossible they are
// skipped with the reason.
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
} from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HostileCase, hostileRoot } from '../support/hostile-harness.js';
import { REPO_ROOT } from '../support/shared-corpus.js';
import { NOBODY, runCliUnprivileged, unprivilegedSkip } from '../support/unprivileged.js';

const EXAMPLES = path.join(REPO_ROOT, 'examples', 'manifests');
const harness = hostileRoot('hostile-permissions');
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

if (unprivilegedSkip) console.warn(`skipping the permission cases: ${unprivilegedSkip}`);

beforeAll(() => {
  // The cases' parent must be traversable by the unprivileged user.
  chmodSync(harness.root, 0o755);
});
afterAll(() => {
  harness.expectNothingOutside();
  harness.cleanup();
});

/** Every file below `dir` with its hash, mode and owner: what must not change. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      const s = statSync(p);
      if (e.isDirectory()) {
        out.push(`${p}/ ${s.mode} ${s.uid}`);
        walk(p);
      } else out.push(`${p} ${sha(readFileSync(p))} ${s.mode} ${s.uid}`);
    }
  };
  walk(dir);
  return out.sort();
}

/**
 * A case whose work directory belongs to the unprivileged user (its HOME, cache and any
 * store it may write live there), with `readonly/` — root's, mode 0755 — holding the outputs
 * of an earlier build made as root: readonly/index.db and readonly/store.
 */
async function caseWithReadonlyOutputs(name: string): Promise<HostileCase & { ro: string }> {
  const c = harness.newCase(name);
  const ro = path.join(c.work, 'readonly');
  mkdirSync(ro, { recursive: true });
  const first = await c.run([
    '--manifest-dir',
    EXAMPLES,
    '--to-db',
    path.join(ro, 'index.db'),
    '--store',
    path.join(ro, 'store'),
  ]);
  expect(first.code, first.stderr).toBe(0);
  chownSync(c.work, NOBODY, NOBODY);
  chmodSync(ro, 0o755);
  return { ...c, ro };
}

function runAsNobody(c: HostileCase, args: string[]) {
  return runCliUnprivileged(['--manifest-dir', EXAMPLES, ...args], {
    HOME: path.join(c.work, 'home'),
    XDG_CACHE_HOME: path.join(c.work, 'cache'),
  });
}

function failureName(store: string): string | undefined {
  const builds = path.join(store, 'builds');
  const [id] = readdirSync(builds);
  return JSON.parse(readFileSync(path.join(builds, id!, 'report.json'), 'utf8')).failure?.name;
}

describe.skipIf(unprivilegedSkip !== undefined)('writing where the user may not', () => {
  it('--to-db in a directory it cannot write: OutputWriteError, the previous DB byte-identical', async () => {
    const c = await caseWithReadonlyOutputs('to-db');
    const before = snapshot(c.ro);
    const store = path.join(c.work, 'store');
    const run = await runAsNobody(c, ['--to-db', path.join(c.ro, 'index.db'), '--store', store]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/error: .*index\.db.*: permission denied/);
    expect(run.stderr).not.toMatch(/at .*\.ts:\d+|Error: EACCES/);
    expect(failureName(store)).toBe('OutputWriteError');
    expect(snapshot(c.ro)).toEqual(before);
  });

  it('--to-fbc below a directory it cannot write: OutputWriteError, nothing created', async () => {
    const c = await caseWithReadonlyOutputs('to-fbc');
    const before = snapshot(c.ro);
    const store = path.join(c.work, 'store');
    const run = await runAsNobody(c, [
      '--index-format',
      'fbc',
      '--to-fbc',
      path.join(c.ro, 'fbc'),
      '--store',
      store,
    ]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/error: .*fbc.*: permission denied/);
    expect(failureName(store)).toBe('OutputWriteError');
    expect(snapshot(c.ro)).toEqual(before);
  });

  it('--store it cannot write: StoreWriteError, the store byte-identical', async () => {
    const c = await caseWithReadonlyOutputs('store');
    const before = snapshot(c.ro);
    const run = await runAsNobody(c, [
      '--to-db',
      path.join(c.work, 'out', 'index.db'),
      '--store',
      path.join(c.ro, 'store'),
    ]);
    expect(run.code, run.stderr).toBe(1);
    // No report can be written to that store, and the CLI prints messages without names:
    // "writing KEY to dir:STORE: CAUSE" is StoreWriteError's message (lib/store/local-dir-store.ts).
    expect(run.stderr).toMatch(
      /^error: writing builds\/[^/]+\/request\.json to dir:.*\/readonly\/store: permission denied \(EACCES\)$/m,
    );
    expect(existsSync(path.join(c.work, 'out', 'index.db'))).toBe(false);
    expect(snapshot(c.ro)).toEqual(before);
  });
});
