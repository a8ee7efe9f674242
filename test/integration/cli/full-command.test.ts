// The full upstream command line, end to end, as a user runs it: our App Registry server
// (serving the dev corpus, or the samples when ../shared is absent, behind a token) → the
// `catalog-build` CLI → a real docker-registry with htpasswd auth over TLS. skopeo reads back
// what was pushed; the DB inside the pushed layer is the one written to --to-db and, on the
// corpus, compare-index says MATCH. A second run with the same SOURCE_DATE_EPOCH downloads
// nothing and gives the same digest; a wrong registry password fails with a named error,
// no secret in the output, and leaves the tag where it was.

import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppRegistryServer, startAppRegistryServer } from '../../../lib/appregistry/server.js';
import { type RegistryServer, startRegistry } from '../../support/registry-server.js';
import { runCli } from '../../support/run-cli.js';
import {
  CORPUS,
  compareIndex,
  EXPECTED_PACKAGES,
  HAVE_CORPUS,
  REPO_ROOT,
} from '../../support/shared-corpus.js';
import { inspectRaw, layerFiles, pullWithSkopeo } from '../../support/skopeo.js';

const TOKEN = 'basic c2VjcmV0LWFwcHItdG9rZW4=';
const sourceDir = HAVE_CORPUS
  ? path.join(CORPUS, 'packages')
  : path.join(REPO_ROOT, 'examples', 'manifests');

let appr: AppRegistryServer;
let reg: RegistryServer;
let tmp: string;
let creds: string;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'cli-full-'));
  appr = await startAppRegistryServer({ dir: sourceDir, org: 'community', token: TOKEN });
  reg = await startRegistry({ auth: 'htpasswd', tls: true });
  creds = `${reg.username}:${reg.password}`;
});

afterAll(async () => {
  await appr?.stop();
  await reg?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const to = () => `${reg.host}/olm/community-catalog:v1`;

function buildArgs(extra: string[] = []): string[] {
  return [
    '--appregistry-org',
    'community',
    '--appregistry-endpoint',
    appr.url,
    '--auth-token',
    TOKEN,
    '--from',
    'scratch',
    '--to',
    to(),
    '-a',
    reg.authFile(),
    '--insecure',
    '--to-db',
    path.join(tmp, 'bundles.db'),
    '--store',
    path.join(tmp, 'store'),
    '--digest-file',
    path.join(tmp, 'digest'),
    ...extra,
  ];
}

describe('catalog-build with the full upstream command line', () => {
  let firstDigest = '';

  it('downloads, indexes and pushes; skopeo finds the same image and DB', async () => {
    const res = await runCli(buildArgs(), { SOURCE_DATE_EPOCH: '1600000000' });
    expect(res.stderr).not.toContain(TOKEN);
    expect(res.stderr).not.toContain(reg.password!);
    expect(res.code).toBe(0);
    const pushed = /^Pushed (sha256:[a-f0-9]{64}) to (.+)$/m.exec(res.stdout);
    expect(pushed?.[2]).toBe(to());
    firstDigest = pushed![1]!;
    expect(readFileSync(path.join(tmp, 'digest'), 'utf8').trim()).toBe(firstDigest);

    const raw = inspectRaw(to(), creds);
    expect(`sha256:${createHash('sha256').update(raw).digest('hex')}`).toBe(firstDigest);
    const { config, lastLayer } = pullWithSkopeo(to(), tmp, creds);
    expect(config.created).toBe('2020-09-13T12:26:40Z');
    const files = await layerFiles(lastLayer);
    expect(files.map((f) => f.name)).toEqual(['bundles.db']);
    const localDb = readFileSync(path.join(tmp, 'bundles.db'));
    expect(files[0]!.data.equals(localDb)).toBe(true);
    expect(res.stderr).toMatch(/packages \d+ \(downloaded \d+, /);
  });

  it.skipIf(!HAVE_CORPUS)('the DB inside the pushed layer matches upstream rows', async () => {
    const { lastLayer } = pullWithSkopeo(to(), tmp, creds);
    const dbPath = path.join(tmp, 'from-layer.db');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(dbPath, (await layerFiles(lastLayer))[0]!.data);
    const verdict = await compareIndex(EXPECTED_PACKAGES, dbPath);
    expect(verdict.output).toContain('MATCH');
    expect(verdict.code).toBe(0);
  });

  it('a second run downloads nothing, uploads nothing new and gives the same digest', async () => {
    const before = appr.requests.blob;
    const res = await runCli(buildArgs(['-v']), { SOURCE_DATE_EPOCH: '1600000000' });
    expect(res.code).toBe(0);
    expect(appr.requests.blob).toBe(before);
    expect(res.stderr).toMatch(/packages \d+ \(downloaded 0, 0B; cached \d+\)/);
    expect(res.stdout).toContain(`Pushed ${firstDigest} to ${to()}`);
    expect(res.stderr).not.toMatch(/^uploaded /m);
  });

  it('a wrong registry password fails with a named 401 error and leaves the tag untouched', async () => {
    const badAuth = reg.authFile({ username: reg.username!, password: 'not-the-password' });
    const args = buildArgs();
    args[args.indexOf('-a') + 1] = badAuth;
    const res = await runCli(args, { SOURCE_DATE_EPOCH: '1700000000' });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^error: .*401/m);
    expect(res.stderr).not.toContain('not-the-password');
    expect(res.stdout).toBe('');
    const raw = inspectRaw(to(), creds);
    expect(`sha256:${createHash('sha256').update(raw).digest('hex')}`).toBe(firstDigest);
  });

  it('a wrong App Registry token fails before anything is pushed', async () => {
    const args = buildArgs();
    args[args.indexOf('--auth-token') + 1] = 'basic d3Jvbmc=';
    const res = await runCli(args);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(
      /^error: listing packages of org community at .*: 401 UNAUTHORIZED/m,
    );
    expect(res.stderr).not.toContain('d3Jvbmc=');
  });
});
