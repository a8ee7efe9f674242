// One iteration of the pipeline's bundle fan-out: which failures are the bundle's (an outcome,
// the build goes on) and which are the build's (thrown, for the state machine to retry) —
// classified by the error families, and shown against a real refused connection; and the
// CLI's pulls under way (startBundlePulls), whose failed images all reject with one error.
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BundleImageLabelsError } from '../../../lib/catalog-source/bundle-image.js';
import {
  RegistryAuthError,
  RegistryDigestMismatchError,
  RegistryNotFoundError,
  RegistryRateLimitedError,
  RegistryUnavailableError,
} from '../../../lib/registry/registry-errors.js';
import {
  BundleImagesFailedError,
  fetchBundle,
  isBundleProblem,
  startBundlePulls,
} from '../../../lib/stages/fetch-bundle.js';
import { silentLogger } from '../../../lib/stages/types.js';
import { LocalDirStore, StoreWriteError } from '../../../lib/store/local-dir-store.js';
import { StoreUnavailableError } from '../../../lib/store/store.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'fetch-bundle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A loopback port that was free a moment ago: connecting is refused. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

describe('fetch-bundle, one bundle per iteration', () => {
  it('counts what a registry or image says of one bundle as that bundle problem', () => {
    expect(isBundleProblem(new RegistryNotFoundError('pulling manifest x: 404'))).toBe(true);
    expect(isBundleProblem(new RegistryAuthError('pulling manifest x: 401'))).toBe(true);
    expect(isBundleProblem(new RegistryDigestMismatchError('pulling blob x: digest'))).toBe(true);
    expect(isBundleProblem(new BundleImageLabelsError('reading bundle image x: no label'))).toBe(
      true,
    );
    // Temporary, store and programming errors are the build's: retried, or fatal.
    expect(isBundleProblem(new RegistryUnavailableError('pulling manifest x: 503'))).toBe(false);
    expect(isBundleProblem(new RegistryRateLimitedError('pulling manifest x: 429'))).toBe(false);
    expect(isBundleProblem(new StoreUnavailableError('putting blob: 503'))).toBe(false);
    expect(isBundleProblem(new StoreWriteError('writing blob: ENOSPC'))).toBe(false);
    expect(isBundleProblem(new TypeError('x is undefined'))).toBe(false);
  });

  it('throws a registry that does not answer, for the state machine to retry', async () => {
    const ref = `127.0.0.1:${await closedPort()}/ns/op-bundle:v1`;
    const err = await fetchBundle(
      { buildId: 'b1', index: 3, ref, insecure: true },
      {
        store: new LocalDirStore(dir),
        log: silentLogger,
        registryRetry: { retries: 0 },
      },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryUnavailableError);
    expect((err as RegistryUnavailableError).temporary).toBe(true);
  });
});

describe('startBundlePulls, the CLI pulling while it loads', () => {
  it('rejects every failed image with the one error naming each, once all pulls are done', async () => {
    const port = await closedPort();
    const refs = [`127.0.0.1:${port}/ns/a-bundle:v1`, `127.0.0.1:${port}/ns/b-bundle:v1`];
    const pulls = startBundlePulls(
      { buildId: 'b2', bundles: refs, insecure: true },
      { store: new LocalDirStore(dir), log: silentLogger, registryRetry: { retries: 0 } },
    );
    expect(pulls.each).toHaveLength(2);
    const all = await pulls.all.catch((e: unknown) => e);
    expect(all).toBeInstanceOf(BundleImagesFailedError);
    expect((all as Error).message).toMatch(
      new RegExp(
        `^pulling bundle images: 2 of 2 failed: ${refs[0]}: RegistryUnavailableError: .*; ${refs[1]}: RegistryUnavailableError: `,
      ),
    );
    // A load waiting on either image fails with the same error, not the image's own.
    for (const p of pulls.each) expect(await p.catch((e: unknown) => e)).toBe(all);
  });
});
