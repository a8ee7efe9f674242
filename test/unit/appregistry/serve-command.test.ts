// `catalog-build serve-appregistry`: prints the endpoint on stdout, serves the folder as the
// org (with the token check), stops cleanly on SIGINT; bad flags exit 1 with the usage.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { AppRegistryClient } from '../../../lib/appregistry/client.js';
import { serveAppRegistryCommand } from '../../../lib/cli/serve-appregistry.js';

const work = mkdtempSync(path.join(tmpdir(), 'serve-appr-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

describe('serveAppRegistryCommand', () => {
  it('prints the endpoint, serves the packages with the token, and stops on SIGINT', async () => {
    mkdirSync(path.join(work, 'pkgs', 'demo', '0.1.0'), { recursive: true });
    writeFileSync(
      path.join(work, 'pkgs', 'demo', 'demo.package.yaml'),
      'packageName: demo\nchannels:\n- name: a\n  currentCSV: demo.v0.1.0\n',
    );
    writeFileSync(
      path.join(work, 'pkgs', 'demo', '0.1.0', 'csv.yaml'),
      'kind: ClusterServiceVersion\n',
    );
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      out.push(String(chunk));
      return true;
    });
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const exit = serveAppRegistryCommand([
      '--dir',
      path.join(work, 'pkgs'),
      '--org',
      'demo-org',
      '--token',
      'basic dA==',
    ]);
    await vi.waitFor(() => expect(out.join('')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/cnr\n$/));
    const client = new AppRegistryClient({ endpoint: out.join('').trim(), token: 'basic dA==' });
    const listed = await client.listPackages('demo-org');
    await client.close();
    expect(listed.map((p) => [p.fullName, p.defaultRelease])).toEqual([['demo-org/demo', '0.1.0']]);
    process.emit('SIGINT');
    expect(await exit).toBe(0);
  });

  it('exits 1 with the usage when --dir or --org is missing or a flag is unknown', async () => {
    const err: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      err.push(String(chunk));
      return true;
    });
    expect(await serveAppRegistryCommand(['--org', 'x'])).toBe(1);
    expect(await serveAppRegistryCommand(['--dir', work, '--org', 'x', '--bogus'])).toBe(1);
    expect(await serveAppRegistryCommand(['--dir', work, '--org', 'x', '--port', 'http'])).toBe(1);
    expect(err.join('')).toMatch(/--dir and --org are required/);
    expect(err.join('')).toMatch(/usage: catalog-build serve-appregistry --dir DIR --org ORG/);
    expect(err.join('')).toMatch(/--port must be an integer/);
  });
});
