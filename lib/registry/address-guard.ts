// Where a registry may send us: token realms, redirects and upload Locations are URLs the
// registry chooses, so a hostile or compromised registry could point them at addresses
// inside our network (the classic SSRF: a cloud metadata endpoint on 169.254.169.254, an
// internal service on 10.x). We follow such a URL only when it stays in the registry's own
// address class: link-local and unspecified addresses are never followed, private and
// loopback ones only when the registry itself is private or loopback (a lab registry that
// sends its clients to its own token server on the same network). Hostnames are not
// resolved; literal addresses, `localhost` and IPv4-mapped IPv6 are recognised.
import { isIPv4, isIPv6 } from 'node:net';
import { RegistryProtocolError } from './registry-errors.js';

export type AddressClass = 'public' | 'private' | 'loopback' | 'link-local' | 'unspecified';

function ipv4Class(ip: string): AddressClass {
  const [a, b] = ip.split('.').map(Number) as [number, number];
  if (a === 0) return 'unspecified';
  if (a === 127) return 'loopback';
  if (a === 169 && b === 254) return 'link-local';
  if (
    a === 10 ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 100 && b >= 64 && b <= 127)
  ) {
    return 'private';
  }
  return 'public';
}

/** The class of a URL hostname (`[::1]` brackets allowed). Names other than localhost are public. */
export function addressClass(hostname: string): AddressClass {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return 'loopback';
  if (isIPv4(host)) return ipv4Class(host);
  if (!isIPv6(host)) return 'public';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(host);
  if (mapped) return ipv4Class(mapped[1]!);
  if (/^::ffff:[0-9a-f]{1,4}:[0-9a-f]{1,4}$/.test(host)) {
    // WHATWG URL writes ::ffff:a.b.c.d in hex form.
    const [hi, lo] = host
      .slice(7)
      .split(':')
      .map((h) => Number.parseInt(h, 16)) as [number, number];
    return ipv4Class(`${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`);
  }
  if (host === '::') return 'unspecified';
  if (host === '::1') return 'loopback';
  if (/^fe[89ab][0-9a-f]?:/.test(host)) return 'link-local';
  if (/^f[cd][0-9a-f]{0,2}:/.test(host)) return 'private';
  return 'public';
}

/**
 * Throws unless following `target` (a realm, redirect or Location the registry at
 * `registryHost` gave us) keeps us where that registry is.
 */
export function checkFollowTarget(target: URL, registryHost: string, what: string): void {
  const targetClass = addressClass(target.hostname);
  if (targetClass === 'public') return;
  const registryClass = addressClass(new URL(`http://${registryHost}`).hostname);
  const allowed =
    targetClass !== 'link-local' &&
    targetClass !== 'unspecified' &&
    (registryClass === 'private' || registryClass === 'loopback');
  if (!allowed) {
    throw new RegistryProtocolError(
      `${what}: refusing to follow the registry to ${target.host}, a ${targetClass} address (${registryHost} is ${registryClass})`,
    );
  }
}
