// The store contract on S3Store against a real S3 server (s3rver in-process, or the endpoint
// in S3_TEST_ENDPOINT), plus how S3 failures map onto the store's error names.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Store } from '../../../lib/store/s3-store.js';
import { type S3TestServer, startS3Server } from '../../support/s3-server.js';
import { storeContract } from '../../unit/store/store-contract.js';

let s3: S3TestServer;
beforeAll(async () => {
  s3 = await startS3Server();
});
afterAll(async () => {
  await s3?.stop();
});

storeContract('S3Store', () => s3.newStore());

describe('S3Store errors', () => {
  it('reports a missing bucket as not found, naming the location and never a secret', async () => {
    const store = new S3Store({ bucket: 'no-such-bucket-here', endpoint: s3.endpoint });
    await expect(store.get('a/b')).rejects.toMatchObject({ name: 'StoreNotFoundError' });
    expect(await store.head('a/b')).toBeUndefined();
    const err = await store.get('a/b').catch((e: Error) => e);
    expect(String((err as Error).message)).toContain('s3://no-such-bucket-here');
    expect(String((err as Error).message)).not.toContain(process.env.AWS_SECRET_ACCESS_KEY ?? '\0');
  });

  it('reports an unreachable endpoint as a temporary StoreUnavailableError', async () => {
    const store = new S3Store({ bucket: 'b', endpoint: 'http://127.0.0.1:9' });
    store.client.config.maxAttempts = async () => 1;
    const err = (await store.put('a/b', 'x').catch((e: unknown) => e)) as {
      name: string;
      temporary: boolean;
      message: string;
    };
    expect(err.name).toBe('StoreUnavailableError');
    expect(err.temporary).toBe(true);
    expect(err.message).toMatch(/^writing a\/b to s3:\/\/b: /);
  });

  it("asks the HTTP clients' one classification: 503 is temporary, 501 is not", async () => {
    // A stand-in endpoint that answers every request with one status and an S3 error body.
    let status = 503;
    const server = http.createServer((req, res) => {
      req.resume();
      res.writeHead(status, { 'content-type': 'application/xml' });
      res.end(
        `<?xml version="1.0"?><Error><Code>Status${status}</Code><Message>m</Message></Error>`,
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const store = new S3Store({ bucket: 'b', endpoint: `http://127.0.0.1:${port}` });
      store.client.config.maxAttempts = async () => 1;
      const unavailable = (await store.put('a/b', 'x').catch((e: unknown) => e)) as Error & {
        temporary: boolean;
      };
      expect(unavailable.name).toBe('StoreUnavailableError');
      expect(unavailable.temporary).toBe(true);
      status = 501;
      const refused = (await store.put('a/b', 'x').catch((e: unknown) => e)) as Error & {
        temporary?: boolean;
      };
      expect(refused.name).toBe('StoreError');
      expect(refused.temporary).toBeFalsy();
      expect(refused.message).toMatch(/^writing a\/b to s3:\/\/b: .*HTTP 501/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('keeps keys under its prefix and lists them without it', async () => {
    const base = await s3.newStore();
    const scoped = new S3Store({ bucket: base.bucket, prefix: 'tenant/', client: base.client });
    await scoped.put('builds/x/report.json', '{}');
    expect(await scoped.list('builds/')).toEqual([{ key: 'builds/x/report.json', size: 2 }]);
    expect((await base.list('tenant/')).map((o) => o.key)).toContain('tenant/builds/x/report.json');
  });
});
