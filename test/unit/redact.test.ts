// The one redactor: registered secrets go in every encoding, credentials go by shape, and
// text without secrets stays byte for byte (messages, digests, challenge parameters).
import { afterEach, describe, expect, it } from 'vitest';
import {
  clearRegisteredSecrets,
  redactText,
  redactValue,
  registerSecret,
  registerUrlSecrets,
} from '../../lib/redact.js';

afterEach(() => clearRegisteredSecrets());

describe('redactText', () => {
  it('removes a registered secret raw, base64, base64url, URL-encoded and as user:secret', () => {
    registerSecret('p@ss/word+42', 'alice');
    const forms = [
      'p@ss/word+42',
      Buffer.from('p@ss/word+42').toString('base64'),
      Buffer.from('p@ss/word+42').toString('base64url'),
      encodeURIComponent('p@ss/word+42'),
      Buffer.from('alice:p@ss/word+42').toString('base64'),
    ];
    for (const f of forms) expect(redactText(`x ${f} y`)).toBe('x REDACTED y');
  });
  it('removes Basic and Bearer credentials nobody registered', () => {
    expect(redactText('Authorization: Basic dXNlcjpwYXNzd29yZA==')).toBe(
      'Authorization: Basic REDACTED',
    );
    expect(redactText('got bearer eyJhbGciOiJIUzI1NiJ9.e30.x')).toBe('got bearer REDACTED');
  });
  it('keeps challenge parameters, digests and ordinary words', () => {
    const text =
      'Bearer realm="https://auth.example/token",service="r" sha256:abcdef0123 Basic realm="x"';
    expect(redactText(text)).toBe(text);
  });
  it('strips URL user-info and secret query values, leaves other URLs alone', () => {
    expect(redactText('at https://u:pw@h.example/cnr now')).toBe('at https://h.example/cnr now');
    expect(redactText('at https://h.example/cnr?token=abc&x=1')).toBe(
      'at https://h.example/cnr?token=REDACTED&x=1',
    );
    expect(redactText('at http://127.0.0.1:5000/cnr')).toBe('at http://127.0.0.1:5000/cnr');
  });
  it('registers URL credentials, so they go wherever they appear later', () => {
    registerUrlSecrets('https://bob:hunter2-long@h.example/x?access_token=tok-123456');
    expect(redactText('hunter2-long and tok-123456')).toBe('REDACTED and REDACTED');
  });
  it('removes "token": "…" pairs and keeps query values when asked', () => {
    expect(redactText('{"token": "abcdefgh"}')).toBe('{"token": "REDACTED"}');
    expect(redactText('https://h/hook?token=capability', { keepQuery: true })).toBe(
      'https://h/hook?token=capability',
    );
  });
  it('does not register short values (they would hit ordinary words)', () => {
    registerSecret('test');
    expect(redactText('testing-operator')).toBe('testing-operator');
  });
});

describe('redactValue', () => {
  it('redacts every string of a JSON value and keeps its shape', () => {
    registerSecret('s3cret-value');
    expect(
      redactValue({ a: ['s3cret-value', 1, null], b: { c: 'Basic Zm9vOmJhcmJheg==' } }),
    ).toEqual({ a: ['REDACTED', 1, null], b: { c: 'Basic REDACTED' } });
  });
});
