// Secrets Manager failures at the SDK edge: the real client against a fake of its JSON API.
// A secret that is missing, forbidden or undecryptable fails the build (SecretNotFoundError);
// throttling, 5xx and a dropped connection are temporary (SecretUnavailableError), so the
// state machine retries them instead of failing a build over a busy service. The secret's
// value never appears in an error.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveSecretFor, runtimeFromEnv } from '../../../functions/commons/runtime.js';
import { TEMPORARY_ERROR_NAMES } from '../../../lib/errors.js';
import {
  type SecretsManagerFake,
  startSecretsManagerFake,
} from '../../support/secrets-manager-fake.js';

const VALUE = 'basic s3cr3t-token-value-1234';
let sm: SecretsManagerFake;
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  sm = await startSecretsManagerFake({ 'catalog-build/token': VALUE });
  // The SDK's own retries would hide what one answer becomes; the state machine retries.
  const env = { AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.endpoint, AWS_MAX_ATTEMPTS: '1' };
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
});
afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await sm.stop();
});

async function failure(
  answer: Parameters<typeof sm.answers.push>[0] | undefined,
  id = 'catalog-build/token',
) {
  if (answer) sm.answers.push(answer);
  const rt = runtimeFromEnv({ BUCKET: 'b' });
  const err = (await rt.resolveSecret(id).then(
    () => undefined,
    (e: unknown) => e,
  )) as (Error & { temporary?: boolean }) | undefined;
  expect(err).toBeInstanceOf(Error);
  expect(err!.message).not.toContain(VALUE);
  expect(JSON.stringify(err)).not.toContain(VALUE);
  return err!;
}

describe('reading a secret from Secrets Manager', () => {
  it('reads the value through the real SDK client', async () => {
    const rt = runtimeFromEnv({ BUCKET: 'b' });
    expect(await rt.resolveSecret('catalog-build/token')).toBe(VALUE);
  });

  it.each([
    [{ status: 400, type: 'ThrottlingException' }, 'ThrottlingException (HTTP 400)'],
    [{ status: 429, type: 'TooManyRequestsException' }, 'TooManyRequestsException (HTTP 429)'],
    [{ status: 429, type: 'SomethingElse' }, 'SomethingElse (HTTP 429)'],
    [{ status: 500, type: 'InternalServiceError' }, 'InternalServiceError (HTTP 500)'],
    [{ status: 503, type: 'ServiceUnavailable' }, 'ServiceUnavailable (HTTP 503)'],
  ] as const)('%o is temporary: SecretUnavailableError', async (answer, cause) => {
    const err = await failure(answer);
    expect(err).toMatchObject({
      name: 'SecretUnavailableError',
      temporary: true,
      message: `reading secret catalog-build/token: ${cause}`,
    });
    expect(TEMPORARY_ERROR_NAMES).toContain(err.name);
  });

  it('a dropped connection is temporary', async () => {
    const err = await failure('reset');
    expect(err).toMatchObject({ name: 'SecretUnavailableError', temporary: true });
  });

  it.each([
    [undefined, 'catalog-build/missing', 'ResourceNotFoundException'],
    [
      { status: 400, type: 'AccessDeniedException' },
      'catalog-build/token',
      'AccessDeniedException',
    ],
    [{ status: 400, type: 'DecryptionFailure' }, 'catalog-build/token', 'DecryptionFailure'],
  ] as const)('%o for %s is permanent: SecretNotFoundError', async (answer, id, type) => {
    const err = await failure(answer, id);
    expect(err).toMatchObject({
      name: 'SecretNotFoundError',
      temporary: false,
      message: `reading secret ${id}: ${type} (HTTP 400)`,
    });
    expect(TEMPORARY_ERROR_NAMES).not.toContain(err.name);
  });

  it('a temporary failure keeps its name when the field is added, and a retry then succeeds', async () => {
    sm.answers.push({ status: 429, type: 'ThrottlingException' });
    const rt = runtimeFromEnv({ BUCKET: 'b' });
    await expect(
      resolveSecretFor(rt, 'catalog-build/token', 'appRegistry.authTokenSecret'),
    ).rejects.toMatchObject({
      name: 'SecretUnavailableError',
      message:
        'reading secret catalog-build/token (appRegistry.authTokenSecret, the App Registry token): ThrottlingException (HTTP 429)',
    });
    expect(await resolveSecretFor(rt, 'catalog-build/token', 'appRegistry.authTokenSecret')).toBe(
      VALUE,
    );
  });
});
