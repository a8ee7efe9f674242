// diff and graph read catalog images: an OCI layout and a real docker-registry on loopback,
// each holding the sample manifests' index as `catalog-build` pushed it, give the same graph
// as the index file itself, and no difference with it.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RegistryServer, startRegistry } from '../../support/registry-server.js';
import { runCli } from '../../support/run-cli.js';
import { REPO_ROOT } from '../../support/shared-corpus.js';

describe('catalog images as diff/graph inputs', () => {
  let work: string;
  let registry: RegistryServer;
  let db: string;
  let expected: string;

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'catalog-image-'));
    registry = await startRegistry();
    db = path.join(work, 'bundles.db');
    const manifests = path.join(REPO_ROOT, 'examples', 'manifests');
    const store = path.join(work, 'store');
    for (const to of [`oci:${path.join(work, 'layout')}:v1`, `${registry.host}/olm/catalog:v1`]) {
      const run = await runCli([
        '--manifest-dir',
        manifests,
        '--from',
        'scratch',
        '--to',
        to,
        '--to-db',
        db,
        '--insecure',
        '--store',
        store,
        '-q',
      ]);
      expect(run.code, run.stderr).toBe(0);
    }
    const graph = await runCli(['graph', db]);
    expect(graph.code).toBe(0);
    expected = graph.stdout;
    expect(expected).toContain('  %% package "todo-operator"\n');
  });
  afterAll(async () => {
    await registry?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('an OCI layout', async () => {
    const ref = `oci:${path.join(work, 'layout')}:v1`;
    expect((await runCli(['graph', ref])).stdout).toBe(expected);
    const diff = await runCli(['diff', db, ref]);
    expect(diff.code).toBe(0);
    expect(diff.stdout).toBe(
      `--- ${db} (SQLite index, schema 7)\n+++ image ${ref} (SQLite index, schema 7)\nNo changes.\n`,
    );
  });

  it('a registry', async () => {
    const ref = `${registry.host}/olm/catalog:v1`;
    const graph = await runCli(['graph', ref, '--insecure']);
    expect(graph.stderr).toBe('');
    expect(graph.stdout).toBe(expected);
  });

  it('an image that is not there is an error, exit 1', async () => {
    const run = await runCli(['graph', `oci:${path.join(work, 'missing')}:v1`]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: .*missing/);
  });
});
