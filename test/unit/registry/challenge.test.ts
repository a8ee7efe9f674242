// WWW-Authenticate parsing: the header shapes registries really send (quoted commas in scope,
// several challenges, escaped quotes, token68) and a round-trip property over arbitrary values.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Challenge,
  challengeScopes,
  formatChallenges,
  isInsufficientScope,
  parseChallenges,
  pickChallenge,
} from '../../../lib/registry/challenge.js';

describe('parseChallenges', () => {
  it('keeps commas inside quoted scope values', () => {
    const [c] = parseChallenges(
      'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:ns/img:pull,push"',
    );
    expect(c).toEqual({
      scheme: 'bearer',
      params: {
        realm: 'https://auth.example/token',
        service: 'registry.example',
        scope: 'repository:ns/img:pull,push',
      },
    });
  });

  it('reads several challenges in one header and picks the first Basic or Bearer', () => {
    const all = parseChallenges(
      'Negotiate abc123==, Basic realm="x, y", Bearer realm="https://t/"',
    );
    expect(all.map((c) => c.scheme)).toEqual(['negotiate', 'basic', 'bearer']);
    expect(all[0]?.token68).toBe('abc123==');
    expect(all[1]?.params.realm).toBe('x, y');
    expect(pickChallenge(all)?.scheme).toBe('basic');
  });

  it('reads several header values, unquoted tokens, spaces around "=" and escaped quotes', () => {
    const all = parseChallenges([
      'Digest realm = "a \\"b\\" c", qop=auth',
      'Bearer realm=https://t/token,error=insufficient_scope',
    ]);
    expect(all[0]).toEqual({ scheme: 'digest', params: { realm: 'a "b" c', qop: 'auth' } });
    expect(all[1]?.params).toEqual({ realm: 'https://t/token', error: 'insufficient_scope' });
    expect(pickChallenge(all)?.scheme).toBe('bearer');
  });

  it('lower-cases scheme and parameter names, not values', () => {
    expect(parseChallenges('BASIC Realm="Registry Realm"')).toEqual([
      { scheme: 'basic', params: { realm: 'Registry Realm' } },
    ]);
  });

  it('gives nothing for absent or empty headers and no pick without Basic/Bearer', () => {
    expect(parseChallenges(undefined)).toEqual([]);
    expect(parseChallenges('')).toEqual([]);
    expect(pickChallenge(parseChallenges('Negotiate'))).toBeUndefined();
  });

  it('reads insufficient_scope and the scopes it names', () => {
    const c = pickChallenge(
      parseChallenges(
        'Bearer realm="r",error="insufficient_scope",scope="repository:a:pull repository:b:pull,push"',
      ),
    );
    expect(isInsufficientScope(c)).toBe(true);
    expect(challengeScopes(c)).toEqual(['repository:a:pull', 'repository:b:pull,push']);
    expect(isInsufficientScope(pickChallenge(parseChallenges('Bearer realm="r"')))).toBe(false);
  });
});

describe('parseChallenges ∘ formatChallenges (property)', () => {
  const scheme = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/);
  const name = fc.stringMatching(/^[a-z][a-z0-9_-]{0,8}$/);
  // Any printable ASCII, including the troublesome , " \ = and spaces.
  const value = fc.string({
    unit: fc.constantFrom(...' !"#$%&\'()*+,-./0123456789:;<=>?@ABCxyz[\\]^_`{|}~'.split('')),
    maxLength: 30,
  });
  const challenge: fc.Arbitrary<Challenge> = fc.record({
    scheme,
    params: fc.dictionary(name, value, { minKeys: 1, maxKeys: 5 }),
  });

  it('round-trips any list of challenges with quoted parameters', () => {
    fc.assert(
      fc.property(fc.array(challenge, { minLength: 1, maxLength: 4 }), (challenges) => {
        expect(parseChallenges(formatChallenges(challenges))).toEqual(challenges);
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on arbitrary input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (s) => {
        expect(Array.isArray(parseChallenges(s))).toBe(true);
      }),
    );
  });
});
