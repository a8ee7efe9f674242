// The package manifests `opm registry add` (v1.26.5, replaces mode) derives from bundles, since
// bundle-format packages have no package.yaml: per package, each channel's head is its bundle
// with the highest version (semver, build ids compared like pre-releases), the default channel
// is the default-channel annotation of the newest bundle, or the only channel. Upstream
// iterates its bundles in Go map order, so where that order matters its result varies from
// run to run; here bundles are taken in ascending version order (input order among equals),
// which makes the default channel the annotation of the newest bundle that has one, and such
// packages get a warning saying so. The manifests then go through the one package walk
// (load-packages.ts) like any package.yaml.

export interface SemVer {
  major: bigint;
  minor: bigint;
  patch: bigint;
  pre: (string | bigint)[];
  build: string[];
}

const NUM = /^(0|[1-9][0-9]*)$/;
const IDENT = /^[0-9A-Za-z-]+$/;

function preIdentifier(s: string, text: string): string | bigint {
  if (!IDENT.test(s))
    throw new Error(`Invalid character(s) found in prerelease "${s}" of "${text}"`);
  if (/^[0-9]+$/.test(s)) {
    if (!NUM.test(s))
      throw new Error(`Numeric PreRelease version must not contain leading zeroes "${s}"`);
    return BigInt(s);
  }
  return s;
}

/** blang/semver v4 Parse: strict major.minor.patch[-pre][+build]. */
export function parseSemver(text: string): SemVer {
  let rest = text;
  let build: string[] = [];
  const plus = rest.indexOf('+');
  if (plus !== -1) {
    build = rest.slice(plus + 1).split('.');
    rest = rest.slice(0, plus);
    for (const b of build)
      if (!IDENT.test(b)) throw new Error(`Invalid character(s) found in build meta data "${b}"`);
  }
  let pre: (string | bigint)[] = [];
  const dash = rest.indexOf('-');
  if (dash !== -1) {
    pre = rest
      .slice(dash + 1)
      .split('.')
      .map((p) => preIdentifier(p, text));
    rest = rest.slice(0, dash);
  }
  const parts = rest.split('.');
  if (parts.length !== 3) throw new Error('No Major.Minor.Patch elements found');
  const nums = parts.map((p, i) => {
    if (!NUM.test(p)) {
      const what = ['major', 'minor', 'patch'][i];
      throw new Error(`Invalid character(s) found in ${what} number "${p}"`);
    }
    return BigInt(p);
  });
  return { major: nums[0]!, minor: nums[1]!, patch: nums[2]!, pre, build };
}

function cmp(a: bigint | string, b: bigint | string): number {
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'bigint') return -1;
  if (typeof b === 'bigint') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** semver precedence (build metadata ignored). */
export function compareSemver(a: SemVer, b: SemVer): number {
  for (const k of ['major', 'minor', 'patch'] as const) {
    const c = cmp(a[k], b[k]);
    if (c !== 0) return c;
  }
  if (a.pre.length === 0 && b.pre.length === 0) return 0;
  if (a.pre.length === 0) return 1;
  if (b.pre.length === 0) return -1;
  for (let i = 0; i < Math.min(a.pre.length, b.pre.length); i++) {
    const c = cmp(a.pre[i]!, b.pre[i]!);
    if (c !== 0) return c;
  }
  return Math.sign(a.pre.length - b.pre.length);
}

function buildAsPrerelease(v: SemVer): SemVer {
  const pre = v.build.map((b) => preIdentifier(b, b));
  return { major: pre.length > 0 ? 1n : 0n, minor: 0n, patch: 0n, pre, build: [] };
}

/** operator-registry's BuildIdCompare: equal versions are ordered by their build ids. */
export function buildIdCompare(a: SemVer, b: SemVer): number {
  const c = compareSemver(a, b);
  if (c !== 0) return c;
  return compareSemver(buildAsPrerelease(a), buildAsPrerelease(b));
}

/** What the derivation needs of a bundle. */
export interface PackageMember {
  name: string;
  packageName: string;
  /** CSV spec.version ('' when absent). */
  version: string;
  channels: readonly string[];
  defaultChannel: string;
}

export interface DerivedPackageManifest {
  packageName: string;
  defaultChannel: string;
  /** Sorted by name. */
  channels: { name: string; head: string }[];
}

export type DerivedPackage =
  | { ok: true; manifest: DerivedPackageManifest; warnings: string[] }
  | { ok: false; error: string; warnings: string[] };

interface Versioned {
  member: PackageMember;
  version: SemVer;
  count: number;
}

/** SemverPackageManifest over one package's bundles, in a deterministic order. */
export function derivePackageManifest(members: readonly PackageMember[]): DerivedPackage {
  const warnings: string[] = [];
  const packageName = members[0]?.packageName ?? '';
  const list: Versioned[] = [];
  for (const m of members) {
    const raw = m.version === '' ? '0.0.0-z' : m.version;
    try {
      list.push({ member: m, version: parseSemver(raw), count: 1 });
    } catch (err) {
      return {
        ok: false,
        error: `error parsing bundle ${m.name} version ${raw}: ${(err as Error).message}`,
        warnings,
      };
    }
  }
  let ordered: Versioned[];
  try {
    ordered = list
      .map((v, i) => ({ v, i }))
      .sort((x, y) => buildIdCompare(x.v.version, y.v.version) || x.i - y.i)
      .map((x) => x.v);
  } catch (err) {
    return { ok: false, error: (err as Error).message, warnings };
  }
  const heads = new Map<string, Versioned>();
  let max: Versioned = {
    member: { name: '', packageName, version: '', channels: [], defaultChannel: '' },
    version: parseSemver('0.0.0'),
    count: 0,
  };
  let defaultChannel = '';
  let defaultFrom = '';
  for (const b of ordered) {
    const current: Versioned = { ...b, count: 1 };
    for (const channel of current.member.channels) {
      const head = heads.get(channel);
      if (!head) {
        heads.set(channel, current);
        continue;
      }
      const c = buildIdCompare(current.version, head.version);
      if (c < 0) continue;
      if (c === 0) current.count += head.count;
      heads.set(channel, current);
    }
    const c = buildIdCompare(current.version, max.version);
    if (c < 0) continue;
    if (c === 0) current.count += max.count;
    max = current;
    if (current.member.defaultChannel !== '') {
      defaultChannel = current.member.defaultChannel;
      defaultFrom = current.member.name;
    }
  }
  if (max.count > 1)
    return {
      ok: false,
      error: `more than one bundle with maximum version ${max.member.version}`,
      warnings,
    };
  const names = [...heads.keys()].sort();
  for (const name of names)
    if (heads.get(name)!.count > 1)
      return { ok: false, error: `more than one potential channel head for ${name}`, warnings };
  let resolved = defaultChannel;
  if (names.length === 1) resolved = names[0]!;
  // Upstream: one head and no annotation, or a head named by the annotation (so one head
  // whose name differs from the annotation is an error too).
  const found = (names.length === 1 && defaultChannel === '') || names.includes(defaultChannel);
  if (!found) {
    const list = names.map((n) => `${n}:${heads.get(n)!.member.name}`).join(' ');
    return {
      ok: false,
      error: `unable to determine default channel among channel heads: map[${list}]`,
      warnings,
    };
  }
  if (names.length > 1 && max.member.defaultChannel === '' && defaultFrom !== '') {
    warnings.push(
      `package ${packageName}: its newest bundle ${max.member.name} has no default-channel annotation, so opm registry add's result depends on Go map order; using "${resolved}" from ${defaultFrom}, the newest bundle that names one`,
    );
  }
  return {
    ok: true,
    manifest: {
      packageName,
      defaultChannel: resolved,
      channels: names.map((name) => ({ name, head: heads.get(name)!.member.name })),
    },
    warnings,
  };
}
