// A full disk, for real: a small tmpfs mounted in a private mount namespace (`unshare -m`),
// nearly filled, holding the previous --to-db output (or the store). The build must fail with
// a named "disk full" error and leave the previous output byte-identical, with no temporary
// file behind; an App Registry org unpacked to --manifest-dir on it fails with a named "disk
// full" error and leaves the existing DIR as it was, with no staging directory beside it.
// Skips with a message where the machine does not allow mount namespaces.
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packPackage } from '../../lib/appregistry/pack.js';
import { startAppRegistryServer } from '../../lib/appregistry/server.js';
import { REPO_ROOT } from '../support/shared-corpus.js';

function namespacesAllowed(): boolean {
  try {
    execFileSync(
      'unshare',
      [
        '-m',
        'sh',
        '-c',
        'mount -t tmpfs -o size=16k tmpfs /mnt 2>/dev/null || mount -t tmpfs -o size=16k tmpfs "$TMPDIR"',
      ],
      {
        stdio: 'ignore',
        env: { ...process.env, TMPDIR: os.tmpdir() },
      },
    );
    return true;
  } catch {
    return false;
  }
}
const ALLOWED = namespacesAllowed();
if (!ALLOWED)
  console.warn(
    'disk-full tests skipped: this machine does not allow `unshare -m` with a tmpfs mount',
  );

const work = mkdtempSync(path.join(os.tmpdir(), 'hostile-diskfull-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/**
 * Runs `script` (sh) in a private mount namespace with a `size` tmpfs on $FULL; resolves with
 * its output. Asynchronous, so a server in this process (App Registry) can answer the build.
 */
async function inFullDisk(size: string, script: string, env: Record<string, string>) {
  const full = path.join(work, `full-${randomBytes(3).toString('hex')}`);
  mkdirSync(full);
  const child = spawn(
    'unshare',
    ['-m', 'sh', '-c', `mount -t tmpfs -o size=${size} tmpfs "$FULL" && ${script}`],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env, FULL: full, CATALOG_BUILD_DEBUG: '', SOURCE_DATE_EPOCH: '' },
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { full, stdout, stderr, status };
}

const CLI = `"${process.execPath}" --import tsx functions/local/main.ts`;

describe.skipIf(!ALLOWED)('a full disk', () => {
  it('--to-db on a full disk: OutputWriteError "disk full", the previous DB byte-identical, no temp file', async () => {
    const previous = randomBytes(80 * 1024);
    const prevFile = path.join(work, 'previous.db');
    writeFileSync(prevFile, previous);
    const store = path.join(work, 'store-todb');
    const r = await inFullDisk(
      '512k',
      [
        `cp "${prevFile}" "$FULL/index.db"`,
        // Leave about 40 kB: less than the new database needs.
        `head -c ${512 * 1024 - 80 * 1024 - 40 * 1024} /dev/zero > "$FULL/filler"`,
        `${CLI} --manifest-dir examples/manifests --to-db "$FULL/index.db" --store "${store}"; echo "cli-exit=$?"`,
        'sha256sum "$FULL/index.db"',
        'ls -a "$FULL"',
      ].join(' && '),
      {},
    );
    expect(r.stdout, r.stderr).toContain('cli-exit=1');
    expect(r.stderr).toMatch(/error: writing the database to .*index\.db: disk full \(ENOSPC\)/);
    expect(r.stdout).toContain(createHash('sha256').update(previous).digest('hex'));
    const listing = r.stdout.slice(r.stdout.indexOf('\n.\n'));
    expect(listing).not.toMatch(/tmp-/);
  });

  it('the store on a full disk: StoreWriteError "disk full", nothing half-written left', async () => {
    const r = await inFullDisk(
      '64k',
      [
        'head -c 60000 /dev/zero > "$FULL/filler" || true',
        `${CLI} --manifest-dir examples/manifests --to-db "${path.join(work, 'out', 'x.db')}" --store "$FULL/store"; echo "cli-exit=$?"`,
        'find "$FULL/store" -name "*.tmp-*" | wc -l',
      ].join(' && '),
      {},
    );
    expect(r.stdout, r.stderr).toContain('cli-exit=1');
    expect(r.stderr).toMatch(/error: writing .* to dir:.*: disk full \(ENOSPC\)/);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('0');
  });

  it('--manifest-dir of an App Registry org on a full disk: ManifestUnpackError "disk full", the existing DIR as it was, no staging left', async () => {
    // A package of ~300 kB once unpacked, more than the tmpfs has left.
    const big = randomBytes(225 * 1024).toString('base64');
    const server = await startAppRegistryServer({
      dir: path.join(REPO_ROOT, 'examples', 'manifests'),
      org: 'demo',
      extraPackages: [
        {
          repository: 'big',
          blob: packPackage([
            { path: 'big.package.yaml', data: new TextEncoder().encode('packageName: big\n') },
            { path: '1.0.0/big.yaml', data: new TextEncoder().encode(`data: ${big}\n`) },
          ]),
        },
      ],
    });
    try {
      const r = await inFullDisk(
        '256k',
        [
          'mkdir -p "$FULL/manifests/big" && echo "my notes" > "$FULL/manifests/README.txt"',
          'echo "stale" > "$FULL/manifests/big/big.package.yaml"',
          `${CLI} --appregistry-org demo --appregistry-endpoint ${server.url} --manifest-dir "$FULL/manifests" --to-db "${path.join(work, 'out-unpack', 'x.db')}" --store "${path.join(work, 'store-unpack')}"; echo "cli-exit=$?"`,
          'echo "-- top" && ls -A "$FULL"',
          'echo "-- dir" && find "$FULL/manifests" | sort && cat "$FULL/manifests/big/big.package.yaml"',
        ].join(' && '),
        {},
      );
      expect(r.stdout, r.stderr).toContain('cli-exit=1');
      expect(r.stderr).toMatch(
        /error: unpacking the downloaded manifests to .*manifests: writing .*: disk full \(ENOSPC\)/,
      );
      const top = r.stdout.slice(r.stdout.indexOf('-- top\n'), r.stdout.indexOf('-- dir\n'));
      expect(top.split('\n').slice(1).filter(Boolean)).toEqual(['manifests']);
      const dir = r.stdout.slice(r.stdout.indexOf('-- dir\n')).split('\n').slice(1).filter(Boolean);
      expect(dir.map((l) => l.replace(/^.*\/manifests/, '/manifests'))).toEqual([
        '/manifests',
        '/manifests/README.txt',
        '/manifests/big',
        '/manifests/big/big.package.yaml',
        'stale',
      ]);
    } finally {
      await server.stop();
    }
  });
});
