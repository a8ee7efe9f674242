// `opm validate` (operator-registry v1.26.5: declcfg.ConvertToModel + model.Validate) run on
// our own FBC before it is written or pushed. opm refuses a whole catalog for one bad object
// and `opm serve` then refuses to start; we instead drop the offending package and report each
// violation as a named warning, so what we ship always loads. The rules, per package:
//   package: a name, unique; a defaultChannel that names one of its channels; >= 1 channel
//   channel: a name, unique in the package; entry names unique; >= 1 entry; exactly one head;
//            no cycle along replaces from the head; no stranded entry; every entry has a bundle
//   bundle:  a known package; a name unique in the package; exactly one olm.package whose
//            packageName is the package and whose version is strict semver (blang/semver:
//            `v1.0.0` and `""` fail); listed in some channel; no empty skips; an image or at
//            least one olm.bundle.object; property values that are JSON
// Icons are not checked (opm does not).
import { tryParseSemVer } from '../catalog/semver.js';
import { channelHeads } from './fbc-graph.js';
import {
  type FbcBundle,
  type FbcCatalog,
  type FbcChannel,
  type FbcPackageFile,
  PROPERTY_BUNDLE_OBJECT,
  PROPERTY_PACKAGE,
} from './fbc-model.js';

/** The named rules; a warning carries one of these as its `rule`. */
export const FBC_RULES = [
  'FbcPackageName',
  'FbcDuplicatePackage',
  'FbcDefaultChannel',
  'FbcNoChannels',
  'FbcChannelName',
  'FbcDuplicateChannel',
  'FbcDuplicateEntry',
  'FbcEmptyChannel',
  'FbcChannelHead',
  'FbcReplacesCycle',
  'FbcStrandedBundles',
  'FbcEntryWithoutBundle',
  'FbcDuplicateBundle',
  'FbcBundleProperties',
  'FbcPackageProperty',
  'FbcBundleVersion',
  'FbcBundleNotInChannel',
  'FbcEmptySkip',
  'FbcBundleImage',
] as const;

export type FbcRule = (typeof FBC_RULES)[number];

export interface FbcViolation {
  rule: FbcRule;
  packageName: string;
  message: string;
}

/** Whether a version parses with blang/semver's strict Parse (as opm does). */
export function isStrictSemver(version: string): boolean {
  return tryParseSemVer(version) !== undefined;
}

function channelViolations(ch: FbcChannel, add: (rule: FbcRule, message: string) => void): void {
  const where = `channel "${ch.name}"`;
  if (ch.name === '') add('FbcChannelName', 'channel name must not be empty');
  const names = new Set<string>();
  for (const e of ch.entries) {
    if (names.has(e.name)) add('FbcDuplicateEntry', `${where}: duplicate entry "${e.name}"`);
    names.add(e.name);
    (e.skips ?? []).forEach((s, i) => {
      if (s === '') add('FbcEmptySkip', `${where}: bundle "${e.name}": skip[${i}] is empty`);
    });
  }
  if (ch.entries.length === 0) {
    add('FbcEmptyChannel', `${where}: channel must contain at least one bundle`);
    return;
  }
  const heads = channelHeads(ch.entries);
  if (heads.length !== 1) {
    add(
      'FbcChannelHead',
      heads.length === 0
        ? `${where}: no channel head found in graph`
        : `${where}: multiple channel heads found in graph: ${heads.join(', ')}`,
    );
    return;
  }
  const byName = new Map(ch.entries.map((e) => [e.name, e]));
  const chain = new Set<string>([heads[0]!]);
  const path = [heads[0]!];
  let cur = byName.get(heads[0]!);
  while (cur) {
    const next = cur.replaces ?? '';
    path.push(next);
    if (chain.has(next)) {
      add('FbcReplacesCycle', `${where}: detected cycle in replaces chain: ${path.join(' -> ')}`);
      return;
    }
    chain.add(next);
    cur = byName.get(next);
  }
  const skipped = new Set(ch.entries.flatMap((e) => e.skips ?? []));
  const stranded = ch.entries
    .map((e) => e.name)
    .filter((n) => !chain.has(n) && !skipped.has(n))
    .sort();
  if (stranded.length > 0)
    add(
      'FbcStrandedBundles',
      `${where}: channel contains one or more stranded bundles: ${stranded.join(', ')}`,
    );
}

function bundleViolations(
  b: FbcBundle,
  packageName: string,
  add: (rule: FbcRule, message: string) => void,
): void {
  const where = `bundle "${b.name}"`;
  const packages: unknown[] = [];
  let objects = 0;
  for (const p of b.properties ?? []) {
    let value: unknown;
    try {
      value = JSON.parse(p.value.text);
    } catch {
      add('FbcBundleProperties', `${where}: property ${p.type} is not valid JSON`);
      continue;
    }
    if (p.type === PROPERTY_PACKAGE) packages.push(value);
    if (p.type === PROPERTY_BUNDLE_OBJECT) objects++;
  }
  if (packages.length !== 1) {
    add(
      'FbcPackageProperty',
      `${where}: must have exactly 1 "olm.package" property, found ${packages.length}`,
    );
  } else {
    const pkg = packages[0] as { packageName?: unknown; version?: unknown } | null;
    const name = typeof pkg?.packageName === 'string' ? pkg.packageName : '';
    const version = typeof pkg?.version === 'string' ? pkg.version : '';
    if (name !== packageName)
      add(
        'FbcPackageProperty',
        `${where}: package "${packageName}" does not match "olm.package" property "${name}"`,
      );
    if (!isStrictSemver(version))
      add('FbcBundleVersion', `${where}: version "${version}" is not strict semver`);
  }
  if (b.image === '' && objects === 0) add('FbcBundleImage', `${where}: bundle image must be set`);
}

function packageViolations(file: FbcPackageFile): FbcViolation[] {
  const packageName = file.package.name;
  const out: FbcViolation[] = [];
  const add = (rule: FbcRule, message: string) =>
    out.push({ rule, packageName, message: `invalid package "${packageName}": ${message}` });
  if (packageName === '') add('FbcPackageName', 'package name must not be empty');
  if (file.channels.length === 0) add('FbcNoChannels', 'package must contain at least one channel');
  const channelNames = new Set<string>();
  for (const ch of file.channels) {
    if (channelNames.has(ch.name)) add('FbcDuplicateChannel', `duplicate channel "${ch.name}"`);
    channelNames.add(ch.name);
    channelViolations(ch, add);
  }
  if (file.package.defaultChannel === '') add('FbcDefaultChannel', 'default channel must be set');
  else if (!channelNames.has(file.package.defaultChannel))
    add('FbcDefaultChannel', `default channel "${file.package.defaultChannel}" has no channel`);
  const entryNames = new Set(file.channels.flatMap((c) => c.entries.map((e) => e.name)));
  const bundleNames = new Set<string>();
  for (const b of file.bundles) {
    if (bundleNames.has(b.name)) add('FbcDuplicateBundle', `duplicate bundle "${b.name}"`);
    bundleNames.add(b.name);
    if (b.package !== packageName)
      add('FbcDuplicateBundle', `bundle "${b.name}" names package "${b.package}"`);
    if (!entryNames.has(b.name))
      add('FbcBundleNotInChannel', `bundle "${b.name}" not found in any channel entries`);
    bundleViolations(b, packageName, add);
  }
  const missing = [...entryNames].filter((n) => !bundleNames.has(n)).sort();
  if (missing.length > 0)
    add('FbcEntryWithoutBundle', `no olm.bundle for olm.channel entries ${missing.join(', ')}`);
  return out;
}

/** The packages opm would accept, and every violation of the others. */
export function validateFbc(catalog: FbcCatalog): {
  catalog: FbcCatalog;
  violations: FbcViolation[];
} {
  const violations: FbcViolation[] = [];
  const seen = new Set<string>();
  const kept: FbcPackageFile[] = [];
  for (const file of catalog.packages) {
    const found = validatePackage(file, seen);
    violations.push(...found);
    if (found.length === 0) kept.push(file);
  }
  return { catalog: { packages: kept }, violations };
}

/**
 * One package's violations, packages checked one at a time in catalog order: `seen` holds the
 * names of the packages checked before it (a second package of a name is a violation).
 */
export function validatePackage(file: FbcPackageFile, seen: Set<string>): FbcViolation[] {
  const found = packageViolations(file);
  if (seen.has(file.package.name))
    found.push({
      rule: 'FbcDuplicatePackage',
      packageName: file.package.name,
      message: `duplicate package "${file.package.name}"`,
    });
  seen.add(file.package.name);
  return found;
}
