// What the Lambda handlers log passes the one redactor: the Powertools logger's output is
// captured as CloudWatch would receive it (JSON lines on stdout) and searched for every form
// of the credentials involved. First the logger itself (fields, messages, an Error whose
// message quotes credentials), then a real handler whose App Registry echoes our token back
// base64-encoded in its refusal: the log line, the thrown error's message and stack (the
// execution's Cause) and the stage record carry none of it.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { logger, stageLogger } from '../../../functions/commons/powertools.js';
import { setFunctionRuntime } from '../../../functions/commons/runtime.js';
import { handler as listPackagesHandler } from '../../../functions/list-packages.js';
import { type AppRegistryServer, startAppRegistryServer } from '../../../lib/appregistry/server.js';
import { registerSecret } from '../../../lib/redact.js';
import { readStageRecord } from '../../../lib/stages/stage-results.js';
import { LocalDirStore } from '../../../lib/store/local-dir-store.js';
import { fakeLambdaContext } from '../../support/lambda-context.js';
import { REPO_ROOT } from '../../support/shared-corpus.js';

/** Everything written to stdout and stderr while `run` runs (Powertools' console: info to one, warn and error to the other). */
async function captureOutput(run: () => Promise<unknown>): Promise<string> {
  const chunks: string[] = [];
  const spies = [process.stdout, process.stderr].map((stream) =>
    vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      chunks.push(String(chunk));
      return true;
    }),
  );
  try {
    await run();
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return chunks.join('');
}

const forms = (secret: string) => [
  secret,
  Buffer.from(secret).toString('base64'),
  Buffer.from(secret).toString('base64url'),
];

describe('handler logs are redacted', () => {
  it('removes registered secrets, Basic/Bearer credentials and URL passwords from every log field', async () => {
    const password = 'registry-password-4711';
    const bearer = 'eyJhbGciOiJSUzI1NiJ9.bearer-token-value';
    registerSecret(password, 'robot');
    const out = await captureOutput(async () => {
      stageLogger.warn(`pushing failed: server said ${password}`, {
        detail: `Authorization: Basic ${Buffer.from(`robot:${password}`).toString('base64')}`,
        url: `https://robot:${password}@registry.example/v2/`,
        nested: { header: `Bearer ${bearer}` },
      });
      logger.error(
        'stage failed',
        new Error(`pushing blob: 401 {"echo": "Bearer ${bearer}", "pw": "${password}"}`),
      );
    });
    const lines = out.split('\n').filter((l) => l.startsWith('{'));
    expect(lines).toHaveLength(2);
    const [warn, error] = lines.map((l) => JSON.parse(l));
    expect(warn.message).toBe('pushing failed: server said REDACTED');
    expect(warn.detail).toBe('Authorization: Basic REDACTED');
    expect(warn.url).not.toContain(password);
    expect(error.error).toMatchObject({ name: 'Error', message: expect.stringContaining('401') });
    expect(error.error.stack).toContain('REDACTED');
    for (const s of [...forms(password), bearer, `robot:${password}`]) expect(out).not.toContain(s);
  });

  describe('a stage handler whose App Registry echoes the token back', () => {
    const token = 'opaque-appr-token-8c1f2e';
    const echoed = Buffer.from(token).toString('base64');
    let dir: string;
    let appRegistry: AppRegistryServer;
    let store: LocalDirStore;

    beforeAll(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'log-redaction-'));
      appRegistry = await startAppRegistryServer({
        dir: path.join(REPO_ROOT, 'examples', 'manifests'),
        org: 'samples',
        token,
        // The refusal quotes our credential base64-encoded: the client's own redaction
        // (which knows only the token as is) lets it through; the boundary must not.
        respond: (_exchange, _answer, send) =>
          send({
            status: 400,
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ error: { message: `bad request from ${echoed}` } }),
          }),
      });
      store = new LocalDirStore(path.join(dir, 'store'));
      setFunctionRuntime({
        store,
        resolveSecret: async (name) => {
          if (name !== 'cb/appr-token') throw new Error(`unexpected secret ${name}`);
          return token;
        },
      });
    });
    afterAll(async () => {
      setFunctionRuntime(undefined);
      await appRegistry?.stop();
      await rm(dir, { recursive: true, force: true });
    });

    it('logs the failure, and neither the log, the thrown error nor the stage record holds the token', async () => {
      let thrown: Error | undefined;
      const out = await captureOutput(async () => {
        try {
          await listPackagesHandler(
            {
              input: {
                buildId: 'b-echo',
                appRegistry: {
                  endpoint: appRegistry.url,
                  org: 'samples',
                  authTokenSecret: 'cb/appr-token',
                },
              },
              execution: 'arn:aws:states:us-east-1:1:execution:sm:b-echo',
            },
            fakeLambdaContext('list-packages'),
          );
        } catch (err) {
          thrown = err as Error;
        }
      });
      expect(thrown?.name).toBe('AppRegistryRequestError');
      expect(thrown?.message).toContain('bad request from REDACTED');
      const failed = out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l))
        .find((r) => r.message === 'list-packages failed');
      expect(failed).toMatchObject({
        level: 'ERROR',
        error: { name: 'AppRegistryRequestError' },
        buildId: 'b-echo',
      });
      const record = await readStageRecord(store, 'b-echo', 'list-packages');
      expect(record?.outcome).toBe('failed');
      const everything = [out, thrown?.message, thrown?.stack, JSON.stringify(record)].join('\n');
      expect(everything).toContain('REDACTED');
      for (const s of forms(token)) expect(everything).not.toContain(s);
    });
  });
});
