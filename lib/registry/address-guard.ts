// Where a registry may send us: token realms, redirects and upload Locations are URLs the
// registry chooses, so a hostile or compromised registry could point them at addresses
// inside our network (the classic SSRF: a cloud metadata endpoint on 169.254.169.254, an
// internal service on 10.x). We follow such a URL only when it stays in the registry's own
// address class: link-local/metadata and unspecified addresses are never followed, private
// and loopback ones only when the registry itself is private or loopback (a lab registry
// that sends its clients to its own token server on the same network). Host names are
// resolved (every address, through an injectable lookup) and judged by the worst of them;
// IPv4-mapped, IPv4-compatible and NAT64 (64:ff9b::/96) forms are judged by the IPv4 address
// they carry. Against DNS rebinding (a name that answers a checked address, then a private
// or metadata one when the connection resolves it again) the addresses are pinned: a
// transport resolves each name once (`pinnedResolveAll`), judges those addresses, and its
// connections (`guardedConnectLookup`) go to exactly those addresses — for the registry
// itself, token realms, redirects and upload Locations alike. `dnsServerResolveAll` resolves
// through given DNS servers instead of the system's (tests point it at their own server).
import { lookup as dnsLookup, promises as dnsPromises, type LookupAddress } from 'node:dns';
import { isIPv4, isIPv6 } from 'node:net';
import { RegistryAddressRefusedError, RegistryRealmSchemeError } from './registry-errors.js';

export type AddressClass = 'public' | 'private' | 'loopback' | 'link-local' | 'unspecified';

/** Every address of a name, as `dns.promises.lookup(name, { all: true })` answers. */
export type ResolveAll = (hostname: string) => Promise<LookupAddress[]>;

export const systemResolveAll: ResolveAll = (hostname) =>
  new Promise((resolve, reject) =>
    dnsLookup(hostname, { all: true }, (err, addresses) =>
      err ? reject(err) : resolve(addresses),
    ),
  );

/**
 * A ResolveAll that asks `resolveAll` once per name and answers the same addresses for the
 * rest of its life (a transport's: one stage call), so what was checked is what is
 * connected to. A failed lookup is not kept (the next attempt asks again).
 */
export function pinnedResolveAll(resolveAll: ResolveAll): ResolveAll {
  const pins = new Map<string, Promise<LookupAddress[]>>();
  return (hostname) => {
    const key = hostname.toLowerCase().replace(/\.$/, '');
    let pinned = pins.get(key);
    if (!pinned) {
      pinned = resolveAll(key);
      pins.set(key, pinned);
      pinned.catch(() => pins.delete(key));
    }
    return pinned;
  };
}

/**
 * Every A and AAAA address of a name, asked of `servers` ("127.0.0.1:5353") directly rather
 * than through the system resolver (which may cache, or read /etc/hosts).
 */
export function dnsServerResolveAll(servers: string[]): ResolveAll {
  const resolver = new dnsPromises.Resolver({ timeout: 2000, tries: 2 });
  resolver.setServers(servers);
  const none = (err: NodeJS.ErrnoException): string[] => {
    if (err.code === 'ENODATA' || err.code === 'ENOTFOUND') return [];
    throw err;
  };
  return async (hostname) => {
    const [v4, v6] = await Promise.all([
      resolver.resolve4(hostname).catch(none),
      resolver.resolve6(hostname).catch(none),
    ]);
    const all = [
      ...v4.map((address) => ({ address, family: 4 })),
      ...v6.map((address) => ({ address, family: 6 })),
    ];
    if (all.length === 0) {
      const err: NodeJS.ErrnoException = new Error(`queryA ENOTFOUND ${hostname}`);
      err.code = 'ENOTFOUND';
      throw err;
    }
    return all;
  };
}

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

/** The eight 16-bit groups of an IPv6 literal (embedded dotted IPv4 tail allowed). */
function ipv6Groups(host: string): number[] | undefined {
  if (!isIPv6(host)) return undefined;
  let text = host.replace(/%.*$/, '');
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4[1]!.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const parse = (s: string) => (s ? s.split(':').map((h) => Number.parseInt(h, 16)) : []);
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const fill = 8 - left.length - right.length;
  return [...left, ...new Array<number>(tail === undefined ? 0 : fill).fill(0), ...right];
}

function ipv6Class(g: number[]): AddressClass {
  const v4 = () => `${g[6]! >> 8}.${g[6]! & 0xff}.${g[7]! >> 8}.${g[7]! & 0xff}`;
  const zeroUpTo = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (g.every((x) => x === 0)) return 'unspecified';
  if (zeroUpTo(7) && g[7] === 1) return 'loopback';
  // ::ffff:a.b.c.d (mapped), ::a.b.c.d (compatible, deprecated), 64:ff9b::a.b.c.d (NAT64).
  if (zeroUpTo(5) && g[5] === 0xffff) return ipv4Class(v4());
  if (zeroUpTo(6)) return ipv4Class(v4());
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0))
    return ipv4Class(v4());
  if ((g[0]! & 0xffc0) === 0xfe80) return 'link-local';
  // AWS's IPv6 instance metadata endpoint, fd00:ec2::254, sits inside fc00::/7.
  if (g[0] === 0xfd00 && g[1] === 0x0ec2 && g.slice(2, 7).every((x) => x === 0) && g[7] === 0x254)
    return 'link-local';
  if ((g[0]! & 0xfe00) === 0xfc00) return 'private';
  return 'public';
}

/**
 * The class of a URL hostname or an address (`[::1]` brackets allowed), or undefined for a
 * name that must be resolved. `localhost` and `*.localhost` are loopback without a lookup.
 */
export function literalClass(hostname: string): AddressClass | undefined {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return 'loopback';
  if (isIPv4(host)) return ipv4Class(host);
  const groups = ipv6Groups(host);
  return groups ? ipv6Class(groups) : undefined;
}

/** The class of a hostname without resolving it: names other than localhost are public. */
export function addressClass(hostname: string): AddressClass {
  return literalClass(hostname) ?? 'public';
}

const RANK: Record<AddressClass, number> = {
  public: 0,
  private: 1,
  loopback: 1,
  'link-local': 2,
  unspecified: 2,
};

/** Every class a hostname stands for: its literal class, or those of all its addresses. */
async function hostClasses(hostname: string, resolveAll: ResolveAll): Promise<AddressClass[]> {
  const literal = literalClass(hostname);
  if (literal) return [literal];
  let addresses: LookupAddress[];
  try {
    addresses = await resolveAll(hostname.replace(/\.$/, ''));
  } catch {
    // A name that does not resolve cannot be connected to either; the connection fails
    // (and is checked again) on its own.
    return [];
  }
  return addresses.map((a) => addressClass(a.address));
}

function worst(classes: AddressClass[]): AddressClass {
  return classes.reduce<AddressClass>((w, c) => (RANK[c] > RANK[w] ? c : w), 'public');
}

/**
 * Throws a permanent RegistryRealmSchemeError unless a token realm is an http(s) URL: a
 * `file:` or `data:` realm is a hostile or broken registry, not a network hiccup.
 */
export function checkRealmScheme(realm: URL, what: string): void {
  if (realm.protocol !== 'http:' && realm.protocol !== 'https:') {
    throw new RegistryRealmSchemeError(
      `${what}: realm scheme ${realm.protocol} is not http or https`,
    );
  }
}

/**
 * Throws unless following `target` (a realm, redirect or Location the registry at
 * `registryHost` gave us) keeps us where that registry is. Names are resolved through
 * `resolveAll` and refused when ANY of their addresses is forbidden.
 */
export async function checkFollowTarget(
  target: URL,
  registryHost: string,
  what: string,
  resolveAll: ResolveAll = systemResolveAll,
): Promise<void> {
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    throw new RegistryAddressRefusedError(
      `${what}: refusing to follow the registry to a ${target.protocol} URL`,
    );
  }
  const targetClass = worst(await hostClasses(target.hostname, resolveAll));
  if (targetClass === 'public') return;
  const registryName = new URL(`http://${registryHost}`).hostname;
  const registryClasses = await hostClasses(registryName, resolveAll);
  // A registry is "private or loopback" when it is reached on such an address.
  const registryClass =
    registryClasses.find((c) => c === 'private' || c === 'loopback') ?? worst(registryClasses);
  const allowed =
    targetClass !== 'link-local' &&
    targetClass !== 'unspecified' &&
    (registryClass === 'private' || registryClass === 'loopback');
  if (!allowed) {
    const resolved = literalClass(target.hostname) ? '' : ' by resolution';
    throw new RegistryAddressRefusedError(
      `${what}: refusing to follow the registry to ${target.host}, a ${targetClass} address${resolved} (${registryHost} is ${registryClass})`,
    );
  }
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for net/tls.connect (undici's `connect` options pass it through) that refuses a
 * name with any link-local/metadata or unspecified address at the moment of connecting. Given
 * the transport's `pinnedResolveAll`, it answers the very addresses `checkFollowTarget` judged,
 * so a DNS answer that changes after the check is never used. Private and loopback answers
 * pass here: which registry a connection serves is not known at this layer, the
 * registry-relative rule is `checkFollowTarget`'s (on the same pinned addresses).
 */
export function guardedConnectLookup(resolveAll: ResolveAll = systemResolveAll) {
  return (
    hostname: string,
    options: { all?: boolean; family?: number | string } | number,
    callback: LookupCallback,
  ): void => {
    const all = typeof options === 'object' && options.all === true;
    const family =
      typeof options === 'number'
        ? options
        : Number(typeof options === 'object' ? options.family : 0);
    resolveAll(hostname).then(
      (found) => {
        const bad = found.find((a) => RANK[addressClass(a.address)] >= 2);
        if (bad) {
          callback(
            new RegistryAddressRefusedError(
              `connecting to ${hostname}: refusing ${bad.address}, a ${addressClass(bad.address)} address`,
            ),
            all ? [] : '',
          );
          return;
        }
        const usable =
          family === 4 || family === 6 ? found.filter((a) => a.family === family) : found;
        if (!usable.length) {
          const err: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
          err.code = 'ENOTFOUND';
          callback(err, all ? [] : '');
          return;
        }
        if (all) callback(null, usable);
        else callback(null, usable[0]!.address, usable[0]!.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, all ? [] : ''),
    );
  };
}
