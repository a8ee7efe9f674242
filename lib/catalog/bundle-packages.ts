// The package manifests `opm registry add` (v1.26.5, replaces mode) derives from bundles, since
// bundle-format packages have no package.yaml: per package, each channel's head is its bundle
// with the highest version (semver, build ids compared like pre-releases), the default channel
// is the default-channel annotation of the newest bundle, or the only channel. Upstream
// iterates its bundles in Go map order, so where that order matters its result varies from
// run to run; here bundles are taken in ascending version order (input order among equals),
// which makes the default channel the annotation of the newest bundle that has one, and such
// packages get a warning saying so. The manifests then go through the one package walk
// (load-packages.ts) like any package.yaml.
import { buildIdCompare, parseSemVer, type SemVer } from './semver.js';

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
      list.push({ member: m, version: parseSemVer(raw), count: 1 });
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
    version: parseSemVer('0.0.0'),
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
