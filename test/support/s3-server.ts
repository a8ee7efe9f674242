// A real S3-compatible server for tests: s3rver in-process on 127.0.0.1, port 0, files in a
// temporary directory removed on stop. When S3_TEST_ENDPOINT (+ S3_TEST_BUCKET) is set the
// tests use that endpoint instead (MinIO, LocalStack, a real bucket) and nothing is started.
// s3rver pages lists with a DES cipher: the test workers run with --openssl-legacy-provider
// (vitest.config.ts execArgv).
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
// @ts-expect-error s3rver ships no type declarations
import S3rver from 's3rver';
import { S3Store, s3ClientFor } from '../../lib/store/s3-store.js';

export interface S3TestServer {
  endpoint: string;
  /** A store on a fresh bucket (each call creates one), path-style, on this server. */
  newStore(bucket?: string): Promise<S3Store>;
  stop(): Promise<void>;
}

let bucketSeq = 0;

export async function startS3Server(): Promise<S3TestServer> {
  const external = process.env.S3_TEST_ENDPOINT;
  let stop = async () => {};
  let endpoint: string;
  if (external) {
    endpoint = external;
  } else {
    const dir = await mkdtemp(path.join(os.tmpdir(), 's3rver-'));
    const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir });
    const addr = (await server.run()) as AddressInfo;
    endpoint = `http://127.0.0.1:${addr.port}`;
    stop = async () => {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    };
  }
  const client = s3ClientFor({ endpoint, region: process.env.AWS_REGION ?? 'us-east-1' });
  return {
    endpoint,
    async newStore(bucket) {
      const name = bucket ?? process.env.S3_TEST_BUCKET ?? `test-${process.pid}-${++bucketSeq}`;
      const prefix = external ? `t${Date.now()}-${++bucketSeq}/` : '';
      if (!external || !process.env.S3_TEST_BUCKET) {
        await client.send(new CreateBucketCommand({ Bucket: name })).catch((err: Error) => {
          if (!/BucketAlready/.test(err.name)) throw err;
        });
      }
      return new S3Store({ bucket: name, prefix, client });
    },
    async stop() {
      client.destroy();
      await stop();
    },
  };
}
