// The checks every hostile-input case makes, in one place: the build runs in-process with its
// store, outputs and cache in a fresh work directory, and afterwards (1) nothing was written
// outside the case's work directory (a sibling sentinel tree stays identical) and (2) no
// secret — raw, base64, or as a Basic credential — appears in stdout, stderr or any file the
// build left. Each case then asserts its own named outcome. Not a test file itself.
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { runCliInProcess } from './cli-in-process.js';
import type { CliRun } from './run-cli.js';

export interface HostileCase {
  /** The case's own directory: store, outputs, cache, inputs all live below it. */
  work: string;
  /** Where the store goes (pass as --store). */
  store: string;
  run(args: string[], env?: Record<string, string | undefined>): Promise<CliRun>;
}

export interface HostileRoot {
  root: string;
  newCase(name: string): HostileCase;
  /** Every file below `dir` with its text (binary files too, as latin1 for scanning). */
  filesUnder(dir: string): Map<string, string>;
  /** The outside-the-work-dirs check: the sentinel tree beside the cases is unchanged. */
  expectNothingOutside(): void;
  cleanup(): void;
}

function walk(dir: string, out: Map<string, string>): void {
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.isFile()) out.set(p, readFileSync(p).toString('latin1'));
  }
}

export function hostileRoot(prefix: string): HostileRoot {
  const root = mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  const sentinel = path.join(root, 'sentinel');
  mkdirSync(path.join(sentinel, 'nested'), { recursive: true });
  writeFileSync(path.join(sentinel, 'nested', 'keep.txt'), 'keep');
  const snapshot = () => {
    const files = new Map<string, string>();
    walk(sentinel, files);
    return [...files.entries()].map(([p, t]) => `${p}:${t.length}:${statSync(p).mtimeMs}`).sort();
  };
  const before = snapshot();
  const topBefore = new Set(readdirSync(root));
  const cases = new Set<string>();
  return {
    root,
    newCase(name) {
      const work = path.join(root, `case-${name.replace(/[^A-Za-z0-9_-]+/g, '-')}`);
      rmSync(work, { recursive: true, force: true });
      mkdirSync(work, { recursive: true });
      cases.add(path.basename(work));
      const store = path.join(work, 'store');
      return {
        work,
        store,
        run: (args, env = {}) =>
          runCliInProcess(args, {
            XDG_CACHE_HOME: path.join(work, 'cache'),
            HOME: path.join(work, 'home'),
            DOCKER_CONFIG: path.join(work, 'docker'),
            REGISTRY_AUTH_FILE: undefined,
            ...env,
          }),
      };
    },
    filesUnder(dir) {
      const out = new Map<string, string>();
      walk(dir, out);
      return out;
    },
    expectNothingOutside() {
      expect(snapshot()).toEqual(before);
      const extra = readdirSync(root).filter((n) => !topBefore.has(n) && !cases.has(n));
      expect(extra).toEqual([]);
    },
    cleanup() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** The forms a secret could leak in: as sent, base64 (alone and as user:secret), URL-encoded. */
export function secretForms(secret: string, user?: string): string[] {
  const forms = [secret, Buffer.from(secret).toString('base64'), encodeURIComponent(secret)];
  if (user) forms.push(Buffer.from(`${user}:${secret}`).toString('base64'));
  return [...new Set(forms)];
}

/**
 * Asserts that no form of any secret appears in the run's output or under `dir` (files below
 * an `inputs` folder are what the test gave the build, such as an auth file, and are skipped).
 */
export function expectNoSecrets(
  harness: HostileRoot,
  run: CliRun,
  dir: string,
  secrets: { secret: string; user?: string }[],
): void {
  const texts = new Map<string, string>([
    ['stdout', run.stdout],
    ['stderr', run.stderr],
    ...[...harness.filesUnder(dir)].filter(([p]) => !p.includes(`${path.sep}inputs${path.sep}`)),
  ]);
  for (const { secret, user } of secrets) {
    for (const form of secretForms(secret, user)) {
      const leaks = [...texts.entries()].filter(([, t]) => t.includes(form)).map(([p]) => p);
      expect(leaks, `secret form ${form.slice(0, 6)}… leaked`).toEqual([]);
    }
  }
}
