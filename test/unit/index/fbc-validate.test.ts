// opm validate's rules on our FBC: each rule has a case that breaks it (and only it), the
// violation names the rule and the package, and the package is dropped while valid ones stay.
import { describe, expect, it } from 'vitest';
import type {
  FbcBundle,
  FbcCatalog,
  FbcChannelEntry,
  FbcPackageFile,
} from '../../../lib/index/fbc-model.js';
import { type FbcRule, isStrictSemver, validateFbc } from '../../../lib/index/fbc-validate.js';
import { RawJson } from '../../../lib/index/go-json.js';

function bundle(name: string, version: string, pkg = 'p'): FbcBundle {
  return {
    schema: 'olm.bundle',
    name,
    package: pkg,
    image: '',
    properties: [
      { type: 'olm.package', value: new RawJson(JSON.stringify({ packageName: pkg, version })) },
      { type: 'olm.bundle.object', value: new RawJson('{"data":"e30="}') },
    ],
  };
}

/** Package p, channel c: b3 (head) replaces b2 replaces b1; all valid. */
function goodPackage(): FbcPackageFile {
  return {
    package: { schema: 'olm.package', name: 'p', defaultChannel: 'c' },
    channels: [
      {
        schema: 'olm.channel',
        name: 'c',
        package: 'p',
        entries: [{ name: 'b1' }, { name: 'b2', replaces: 'b1' }, { name: 'b3', replaces: 'b2' }],
      },
    ],
    bundles: [bundle('b1', '1.0.0'), bundle('b2', '1.1.0'), bundle('b3', '2.0.0-rc.1+build.7')],
  };
}

function other(): FbcPackageFile {
  const p = goodPackage();
  p.package.name = 'q';
  p.channels[0]!.package = 'q';
  p.bundles = p.bundles.map((b, i) => bundle(b.name, ['1.0.0', '1.1.0', '2.0.0'][i]!, 'q'));
  return p;
}

function rulesOf(mutate: (p: FbcPackageFile) => void): FbcRule[] {
  const p = goodPackage();
  mutate(p);
  const catalog: FbcCatalog = { packages: [p, other()] };
  const result = validateFbc(catalog);
  expect(result.catalog.packages.map((x) => x.package.name)).toEqual(
    result.violations.length > 0 ? ['q'] : ['p', 'q'],
  );
  for (const v of result.violations) expect(v.packageName).toBe('p');
  return [...new Set(result.violations.map((v) => v.rule))];
}

const entries = (p: FbcPackageFile): FbcChannelEntry[] => p.channels[0]!.entries;

describe('validateFbc', () => {
  it('keeps a valid catalog whole', () => {
    expect(rulesOf(() => {})).toEqual([]);
  });
  it('FbcBundleVersion: a version that is not strict semver', () => {
    expect(rulesOf((p) => (p.bundles[0] = bundle('b1', 'v1.0.0')))).toEqual(['FbcBundleVersion']);
    expect(rulesOf((p) => (p.bundles[0] = bundle('b1', '')))).toEqual(['FbcBundleVersion']);
  });
  it('FbcPackageProperty: none, two, or one naming another package', () => {
    expect(rulesOf((p) => (p.bundles[0]!.properties = p.bundles[0]!.properties!.slice(1)))).toEqual(
      ['FbcPackageProperty'],
    );
    expect(
      rulesOf((p) => p.bundles[0]!.properties!.push(bundle('b1', '1.0.1').properties![0]!)),
    ).toEqual(['FbcPackageProperty']);
    expect(
      rulesOf((p) => (p.bundles[0]!.properties![0] = bundle('b1', '1.0.0', 'x').properties![0]!)),
    ).toEqual(['FbcPackageProperty']);
  });
  it('FbcBundleProperties: a value that is not JSON', () => {
    expect(
      rulesOf((p) => p.bundles[0]!.properties!.push({ type: 'x', value: new RawJson('{') })),
    ).toEqual(['FbcBundleProperties']);
  });
  it('FbcChannelHead: two heads, or none', () => {
    expect(rulesOf((p) => (entries(p)[1]!.replaces = undefined))).toEqual(['FbcChannelHead']);
    expect(rulesOf((p) => (entries(p)[0]!.skips = ['b3']))).toEqual(['FbcChannelHead']);
  });
  it('FbcReplacesCycle: replaces leading back into the chain', () => {
    expect(
      rulesOf((p) => {
        entries(p)[0]!.replaces = 'b2';
      }),
    ).toEqual(['FbcReplacesCycle']);
  });
  it('FbcStrandedBundles: an entry neither on the chain nor skipped', () => {
    expect(
      rulesOf((p) => {
        // b3 skips bx, bx replaces b0: b0 is neither on b3's chain nor skipped.
        entries(p).push({ name: 'b0' });
        entries(p).push({ name: 'bx', replaces: 'b0' });
        p.bundles.push(bundle('b0', '0.1.0'), bundle('bx', '0.2.0'));
        entries(p)[2]!.skips = ['bx'];
      }),
    ).toEqual(['FbcStrandedBundles']);
  });
  it('FbcEmptySkip: an empty name in skips', () => {
    expect(rulesOf((p) => (entries(p)[2]!.skips = ['']))).toEqual(['FbcEmptySkip']);
  });
  it('FbcDuplicateEntry, FbcEmptyChannel, FbcDuplicateChannel, FbcChannelName', () => {
    expect(rulesOf((p) => entries(p).push({ name: 'b1' }))).toContain('FbcDuplicateEntry');
    expect(
      rulesOf((p) =>
        p.channels.push({ schema: 'olm.channel', name: 'd', package: 'p', entries: [] }),
      ),
    ).toEqual(['FbcEmptyChannel']);
    expect(rulesOf((p) => p.channels.push({ ...p.channels[0]! }))).toEqual(['FbcDuplicateChannel']);
    expect(
      rulesOf((p) => {
        p.channels[0]!.name = '';
        p.package.defaultChannel = '';
      }),
    ).toEqual(['FbcChannelName', 'FbcDefaultChannel']);
  });
  it('FbcDefaultChannel: unset or naming no channel; FbcNoChannels', () => {
    expect(rulesOf((p) => (p.package.defaultChannel = 'nope'))).toEqual(['FbcDefaultChannel']);
    expect(
      rulesOf((p) => {
        p.channels = [];
      }),
    ).toEqual(['FbcNoChannels', 'FbcDefaultChannel', 'FbcBundleNotInChannel']);
  });
  it('FbcEntryWithoutBundle and FbcBundleNotInChannel', () => {
    expect(rulesOf((p) => p.bundles.shift())).toEqual(['FbcEntryWithoutBundle']);
    expect(rulesOf((p) => p.bundles.push(bundle('lonely', '3.0.0')))).toEqual([
      'FbcBundleNotInChannel',
    ]);
  });
  it('FbcDuplicateBundle and FbcBundleImage', () => {
    expect(rulesOf((p) => p.bundles.push(bundle('b1', '1.0.0')))).toEqual(['FbcDuplicateBundle']);
    expect(
      rulesOf((p) => (p.bundles[0]!.properties = p.bundles[0]!.properties!.slice(0, 1))),
    ).toEqual(['FbcBundleImage']);
  });
  it('FbcPackageName and FbcDuplicatePackage', () => {
    const dup = validateFbc({ packages: [goodPackage(), goodPackage()] });
    expect(dup.violations.map((v) => v.rule)).toEqual(['FbcDuplicatePackage']);
    expect(dup.catalog.packages).toHaveLength(1);
    const unnamed = goodPackage();
    unnamed.package.name = '';
    expect(validateFbc({ packages: [unnamed] }).violations.map((v) => v.rule)).toContain(
      'FbcPackageName',
    );
  });
});

describe('isStrictSemver', () => {
  it('is blang/semver Parse', () => {
    for (const ok of ['0.0.0', '1.2.3', '1.2.3-alpha.1', '1.2.3-0a.1+b.01', '10.20.30+x-y'])
      expect(isStrictSemver(ok), ok).toBe(true);
    for (const bad of ['', 'v1.2.3', '1.2', '01.2.3', '1.2.3-01', '1.2.3-', '1.2.3+', '1.2.3-a..b'])
      expect(isStrictSemver(bad), bad).toBe(false);
  });
});
