// Which error a registry answer becomes, how its message reads, and that no credential from
// the URL survives into the error.
import { describe, expect, it } from 'vitest';
import { TEMPORARY_ERROR_NAMES } from '../../../lib/errors.js';
import {
  parseDiagnostics,
  registryErrorFromFailure,
  registryErrorFromResponse,
} from '../../../lib/registry/registry-errors.js';

const body = (code: string, message: string) =>
  JSON.stringify({ errors: [{ code, message, detail: { x: 1 } }] });
const URL_WITH_SECRETS =
  'https://user:pa55word@reg.example/v2/ns/img/manifests/tag?access_token=tok-123&n=1';

describe('registryErrorFromResponse', () => {
  it.each([
    [401, body('UNAUTHORIZED', 'authentication required'), 'RegistryAuthError', false],
    [403, body('DENIED', 'requested access to the resource is denied'), 'RegistryAuthError', false],
    [404, body('MANIFEST_UNKNOWN', 'manifest unknown'), 'RegistryNotFoundError', false],
    [400, body('BLOB_UNKNOWN', 'blob unknown to registry'), 'RegistryNotFoundError', false],
    [429, body('TOOMANYREQUESTS', 'slow down'), 'RegistryRateLimitedError', true],
    [503, '', 'RegistryUnavailableError', true],
    [408, '', 'RegistryUnavailableError', true],
    [499, '', 'RegistryUnavailableError', true],
    [522, '<html>cf</html>', 'RegistryUnavailableError', true],
    [
      400,
      body('DIGEST_INVALID', 'provided digest did not match'),
      'RegistryDigestMismatchError',
      false,
    ],
    [400, body('MANIFEST_INVALID', 'manifest invalid'), 'RegistryProtocolError', false],
  ])('%i %s → %s', (status, text, name, temporary) => {
    const err = registryErrorFromResponse(
      'pushing manifest',
      'reg.example/ns/img:tag',
      status,
      text,
      URL_WITH_SECRETS,
      'PUT',
    );
    expect(err.name).toBe(name);
    expect(err.temporary).toBe(temporary);
    expect(err.status).toBe(status);
    if (temporary) expect(TEMPORARY_ERROR_NAMES).toContain(name);
    else expect(TEMPORARY_ERROR_NAMES).not.toContain(name);
  });

  it('reads "<verb-ing> <object>: <status> <CODE> <message>" and keeps the diagnostics', () => {
    const err = registryErrorFromResponse(
      'pushing manifest',
      '127.0.0.1:5000/ns/img:tag',
      401,
      body('UNAUTHORIZED', 'authentication required'),
      'http://127.0.0.1:5000/v2/ns/img/manifests/tag',
      'PUT',
    );
    expect(err.message).toBe(
      'pushing manifest 127.0.0.1:5000/ns/img:tag: 401 UNAUTHORIZED authentication required',
    );
    expect(err.codes).toEqual(['UNAUTHORIZED']);
    expect(err.diagnostics[0]?.detail).toEqual({ x: 1 });
  });

  it('redacts the URL it keeps', () => {
    const err = registryErrorFromResponse(
      'getting manifest',
      'reg.example/ns/img:tag',
      500,
      '',
      URL_WITH_SECRETS,
    );
    expect(err.url).not.toContain('pa55word');
    expect(err.url).not.toContain('tok-123');
    expect(err.url).toContain('n=1');
    expect(JSON.stringify({ ...err, message: err.message })).not.toMatch(/pa55word|tok-123/);
  });

  it('says a HEAD response has no body, and shortens non-JSON bodies', () => {
    expect(
      registryErrorFromResponse('checking blob', 's', 500, '', 'http://h/v2/', 'HEAD').message,
    ).toBe('checking blob s: 500 no body (HEAD response)');
    const long = `<html>${'x'.repeat(1000)}</html>`;
    expect(
      registryErrorFromResponse('getting blob', 's', 502, long, 'http://h/').message.length,
    ).toBeLessThan(260);
  });
});

describe('registryErrorFromFailure', () => {
  it('makes resets temporary and certificate failures final', () => {
    const reset = Object.assign(new Error('other side closed'), {
      code: 'UND_ERR_SOCKET',
      cause: { code: 'ECONNRESET' },
    });
    expect(registryErrorFromFailure('pinging', 'h', reset, 'https://h/v2/')).toMatchObject({
      name: 'RegistryUnavailableError',
      temporary: true,
    });
    const tls = Object.assign(new Error('self-signed certificate'), {
      code: 'DEPTH_ZERO_SELF_SIGNED_CERT',
    });
    const err = registryErrorFromFailure('pinging', 'h', tls, 'https://h/v2/');
    expect(err).toMatchObject({ name: 'RegistryTlsError', temporary: false });
    expect(err.message).toMatch(/^pinging h: TLS certificate not trusted/);
  });
});

describe('parseDiagnostics', () => {
  it('tolerates bodies that are not distribution errors', () => {
    expect(parseDiagnostics('')).toEqual([]);
    expect(parseDiagnostics('not json')).toEqual([]);
    expect(parseDiagnostics('{"errors": "nope"}')).toEqual([]);
    expect(parseDiagnostics('{"errors": [{"message": "no code"}]}')).toEqual([
      { code: 'UNKNOWN', message: 'no code' },
    ]);
  });
});
