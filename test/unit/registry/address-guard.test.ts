// Which addresses a registry may send us to (token realm, redirects, upload Locations).
import { describe, expect, it } from 'vitest';
import { addressClass, checkFollowTarget } from '../../../lib/registry/address-guard.js';

describe('addressClass', () => {
  it.each([
    ['registry.example.com', 'public'],
    ['8.8.8.8', 'public'],
    ['localhost', 'loopback'],
    ['127.0.0.1', 'loopback'],
    ['[::1]', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['[fe80::1]', 'link-local'],
    ['[fd00::1]', 'private'],
    ['[::ffff:169.254.169.254]', 'link-local'],
    ['[::ffff:a9fe:a9fe]', 'link-local'],
    ['0.0.0.0', 'unspecified'],
    ['[::]', 'unspecified'],
  ])('%s is %s', (host, expected) => {
    expect(addressClass(host)).toBe(expected);
  });
});

describe('checkFollowTarget', () => {
  const follow = (target: string, registry: string) => () =>
    checkFollowTarget(new URL(target), registry, 'getting token for x');

  it('lets any registry send us to public addresses', () => {
    expect(follow('https://auth.example.com/token', 'quay.io')).not.toThrow();
    expect(follow('https://auth.example.com/token', '10.0.0.5:5000')).not.toThrow();
  });

  it('keeps a public registry away from private, loopback and link-local addresses', () => {
    expect(follow('http://10.0.0.1/token', 'quay.io')).toThrow(
      /a private address \(quay\.io is public\)/,
    );
    expect(follow('http://127.0.0.1:8080/', 'quay.io')).toThrow(/a loopback address/);
    expect(follow('http://169.254.169.254/', 'quay.io')).toThrow(/a link-local address/);
  });

  it('lets a private or loopback registry use its own network, never link-local', () => {
    expect(follow('http://10.0.0.9/token', '10.0.0.5:5000')).not.toThrow();
    expect(follow('http://127.0.0.1:9000/token', '127.0.0.1:5000')).not.toThrow();
    expect(follow('http://169.254.169.254/', '10.0.0.5:5000')).toThrow(/link-local/);
    expect(follow('http://0.0.0.0/', '127.0.0.1:5000')).toThrow(/unspecified/);
  });
});
