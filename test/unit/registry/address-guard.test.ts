// Which addresses a registry may send us to (token realm, redirects, upload Locations).

import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import {
  addressClass,
  checkFollowTarget,
  checkRealmScheme,
  guardedConnectLookup,
  pinnedResolveAll,
  type ResolveAll,
} from '../../../lib/registry/address-guard.js';

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
    ['[fd00:ec2::254]', 'link-local'],
    ['[fd00:ec2::253]', 'private'],
    ['[fe90::1]', 'link-local'],
    ['[febf::1]', 'link-local'],
    ['[fec0::1]', 'public'],
    ['[::ffff:10.0.0.1]', 'private'],
    ['[::ffff:8.8.8.8]', 'public'],
    ['[0:0:0:0:0:ffff:a9fe:a9fe]', 'link-local'],
    ['[64:ff9b::169.254.169.254]', 'link-local'],
    ['[64:ff9b::a9fe:a9fe]', 'link-local'],
    ['[64:ff9b::808:808]', 'public'],
    ['[::169.254.169.254]', 'link-local'],
    ['[0:0:0:0:0:0:0:1]', 'loopback'],
    ['[2001:db8::1]', 'public'],
  ])('%s is %s', (host, expected) => {
    expect(addressClass(host)).toBe(expected);
  });
});

/** An edge fake for DNS: names resolve to the addresses given here, nothing else resolves. */
function fakeDns(table: Record<string, string[]>): ResolveAll {
  return async (name) => {
    const found = table[name];
    if (!found) {
      const err: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${name}`);
      err.code = 'ENOTFOUND';
      throw err;
    }
    return found.map<LookupAddress>((address) => ({
      address,
      family: address.includes(':') ? 6 : 4,
    }));
  };
}

const dns = fakeDns({
  'auth.example.com': ['93.184.216.34', '2606:2800:220:1::1'],
  'metadata.google.internal': ['169.254.169.254'],
  'mixed.example.com': ['93.184.216.34', '169.254.169.254'],
  'ec2-v6.example.com': ['2606:2800:220:1::1', 'fd00:ec2::254'],
  'mapped.example.com': ['::ffff:169.254.169.254'],
  'nat64.example.com': ['64:ff9b::a9fe:a9fe'],
  'internal.example.com': ['10.0.0.9'],
  'lab-registry.example.com': ['10.0.0.5'],
  'quay.io': ['34.1.2.3'],
});

describe('checkFollowTarget', () => {
  const follow = (target: string, registry: string) =>
    checkFollowTarget(new URL(target), registry, 'getting token for x', dns);

  it('lets any registry send us to public addresses', async () => {
    await expect(follow('https://auth.example.com/token', 'quay.io')).resolves.toBeUndefined();
    await expect(
      follow('https://auth.example.com/token', '10.0.0.5:5000'),
    ).resolves.toBeUndefined();
  });

  it('keeps a public registry away from private, loopback and link-local addresses', async () => {
    await expect(follow('http://10.0.0.1/token', 'quay.io')).rejects.toThrow(
      /a private address \(quay\.io is public\)/,
    );
    await expect(follow('http://127.0.0.1:8080/', 'quay.io')).rejects.toThrow(/a loopback address/);
    await expect(follow('http://169.254.169.254/', 'quay.io')).rejects.toThrow(
      /a link-local address/,
    );
  });

  it('lets a private or loopback registry use its own network, never link-local', async () => {
    await expect(follow('http://10.0.0.9/token', '10.0.0.5:5000')).resolves.toBeUndefined();
    await expect(follow('http://127.0.0.1:9000/token', '127.0.0.1:5000')).resolves.toBeUndefined();
    await expect(follow('http://localhost:9000/token', 'localhost:5000')).resolves.toBeUndefined();
    await expect(follow('http://169.254.169.254/', '10.0.0.5:5000')).rejects.toThrow(/link-local/);
    await expect(follow('http://0.0.0.0/', '127.0.0.1:5000')).rejects.toThrow(/unspecified/);
  });

  it.each([
    ['http://metadata.google.internal/computeMetadata/v1/'],
    ['https://mixed.example.com/token'],
    ['https://ec2-v6.example.com/token'],
    ['https://mapped.example.com/token'],
    ['https://nat64.example.com/token'],
    ['http://[::ffff:169.254.169.254]/'],
    ['http://[::ffff:a9fe:a9fe]/'],
    ['http://[64:ff9b::169.254.169.254]/'],
    ['http://[fd00:ec2::254]/'],
  ])('refuses %s (a link-local/metadata address by resolution or literal form)', async (target) => {
    for (const registry of ['quay.io', '10.0.0.5:5000', '127.0.0.1:5000']) {
      const err = await follow(target, registry).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).name).toBe('RegistryAddressRefusedError');
      expect((err as Error).message).toMatch(
        /^getting token for x: refusing to follow .*link-local/,
      );
      expect((err as { temporary?: boolean }).temporary).toBe(false);
    }
  });

  it('judges a named registry by its resolved addresses too', async () => {
    await expect(
      follow('https://internal.example.com/token', 'lab-registry.example.com:5000'),
    ).resolves.toBeUndefined();
    await expect(follow('https://internal.example.com/token', 'quay.io')).rejects.toThrow(
      /a private address by resolution \(quay\.io is public\)/,
    );
  });

  it('refuses non-HTTP targets', async () => {
    await expect(follow('file:///etc/passwd', 'quay.io')).rejects.toThrow(
      /refusing to follow the registry to a file: URL/,
    );
  });
});

describe('checkRealmScheme', () => {
  it.each(['file:///etc/passwd', 'ftp://auth.example.com/token', 'data:text/plain,x'])(
    'refuses the realm %s with a permanent named error',
    (realm) => {
      let err: unknown;
      try {
        checkRealmScheme(new URL(realm), 'getting token for quay.io');
      } catch (e) {
        err = e;
      }
      expect((err as Error).name).toBe('RegistryRealmSchemeError');
      expect((err as Error).message).toMatch(
        /^getting token for quay\.io: realm scheme \w+: is not/,
      );
      expect((err as { temporary?: boolean }).temporary).toBe(false);
    },
  );

  it('accepts http and https realms', () => {
    expect(() => checkRealmScheme(new URL('https://a/t'), 'x')).not.toThrow();
    expect(() => checkRealmScheme(new URL('http://a/t'), 'x')).not.toThrow();
  });
});

describe('guardedConnectLookup', () => {
  const lookup = guardedConnectLookup(dns);
  const call = (name: string, options: { all?: boolean; family?: number }) =>
    new Promise<{ err: Error | null; address: unknown; family?: number }>((resolve) =>
      lookup(name, options, (err, address, family) =>
        resolve({ err, address, ...(family === undefined ? {} : { family }) }),
      ),
    );

  it('refuses a name with any metadata address at connect time', async () => {
    for (const name of ['metadata.google.internal', 'mixed.example.com', 'nat64.example.com']) {
      const r = await call(name, { all: true });
      expect(r.err?.name).toBe('RegistryAddressRefusedError');
    }
  });

  it('answers net.connect in both shapes for allowed names', async () => {
    expect(await call('auth.example.com', { all: true })).toEqual({
      err: null,
      address: [
        { address: '93.184.216.34', family: 4 },
        { address: '2606:2800:220:1::1', family: 6 },
      ],
    });
    expect(await call('auth.example.com', { family: 6 })).toEqual({
      err: null,
      address: '2606:2800:220:1::1',
      family: 6,
    });
    expect((await call('nowhere.example.com', {})).err).toMatchObject({ code: 'ENOTFOUND' });
  });
});

describe('pinnedResolveAll', () => {
  it('asks once per name (case and trailing dot folded), and again after a failure', async () => {
    const asked: string[] = [];
    let fail = true;
    const pinned = pinnedResolveAll(async (name) => {
      asked.push(name);
      if (name === 'flaky.test' && fail) {
        fail = false;
        throw Object.assign(new Error('getaddrinfo EAI_AGAIN'), { code: 'EAI_AGAIN' });
      }
      return [{ address: asked.length === 1 ? '93.184.216.34' : '169.254.169.254', family: 4 }];
    });
    const first = await pinned('Rebind.test.');
    expect(await pinned('rebind.test')).toEqual(first);
    expect(first).toEqual([{ address: '93.184.216.34', family: 4 }]);
    await expect(pinned('flaky.test')).rejects.toThrow('EAI_AGAIN');
    await pinned('flaky.test');
    expect(asked).toEqual(['rebind.test', 'flaky.test', 'flaky.test']);
  });
});
