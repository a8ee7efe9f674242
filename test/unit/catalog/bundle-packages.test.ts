// The package manifests derived from bundle annotations (opm registry add, replaces mode):
// semver channel heads, the default channel, upstream's errors, and the cases where upstream
// depends on Go map order (decided here by version order, with a warning).
import { describe, expect, it } from 'vitest';
import { derivePackageManifest, type PackageMember } from '../../../lib/catalog/bundle-packages.js';
import { buildIdCompare, parseSemVer } from '../../../lib/catalog/semver.js';

function member(name: string, version: string, channels: string[], def = ''): PackageMember {
  return { name, packageName: 'p', version, channels, defaultChannel: def };
}

describe('semver as operator-registry compares bundle versions', () => {
  it('orders releases, pre-releases and build ids', () => {
    const order = [
      '0.0.0-z',
      '0.9.0',
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-beta',
      '1.0.0',
      '1.0.0+1',
      '1.0.0+2',
      '1.0.0+a',
      '1.2.0',
      '1.10.0',
    ];
    for (let i = 0; i + 1 < order.length; i++)
      expect(buildIdCompare(parseSemVer(order[i]!), parseSemVer(order[i + 1]!))).toBe(-1);
  });
  it('is strict like blang/semver', () => {
    expect(() => parseSemVer('v1.0.0')).toThrow(/major number/);
    expect(() => parseSemVer('1.0')).toThrow('no Major.Minor.Patch elements found');
  });
});

describe('derivePackageManifest', () => {
  it('heads are the highest version per channel; the default is the newest annotation', () => {
    const r = derivePackageManifest([
      member('p.v2.0.0', '2.0.0', ['fast'], 'fast'),
      member('p.v1.0.0', '1.0.0', ['stable', 'fast'], 'stable'),
      member('p.v1.1.0', '1.1.0', ['stable'], 'stable'),
    ]);
    expect(r).toEqual({
      ok: true,
      manifest: {
        packageName: 'p',
        defaultChannel: 'fast',
        channels: [
          { name: 'fast', head: 'p.v2.0.0' },
          { name: 'stable', head: 'p.v1.1.0' },
        ],
      },
      warnings: [],
    });
  });

  it('one channel is the default without an annotation', () => {
    const r = derivePackageManifest([member('p.v1', '1.0.0', ['alpha'])]);
    expect(r.ok && r.manifest.defaultChannel).toBe('alpha');
  });

  it('one channel named differently from the annotation is an error, as upstream', () => {
    const r = derivePackageManifest([member('p.v1', '1.0.0', ['alpha'], 'stable')]);
    expect(r).toMatchObject({
      ok: false,
      error: 'unable to determine default channel among channel heads: map[alpha:p.v1]',
    });
  });

  it('newest bundle without a default annotation (mercury-operator): the newest annotated one decides, with a warning', () => {
    const r = derivePackageManifest([
      member('p.v1.0.2', '1.0.2', ['1.0.x', 'latest']),
      member('p.v1.0.1', '1.0.1', ['1.0.x', 'latest'], '1.0.x'),
    ]);
    expect(r.ok && r.manifest.defaultChannel).toBe('1.0.x');
    expect(r.warnings).toEqual([
      'package p: its newest bundle p.v1.0.2 has no default-channel annotation, so opm registry add\'s result depends on Go map order; using "1.0.x" from p.v1.0.1, the newest bundle that names one',
    ]);
  });

  it("no annotation anywhere and several channels: upstream's error", () => {
    const r = derivePackageManifest([member('p.v1', '1.0.0', ['a', 'b'])]);
    expect(r).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^unable to determine default channel/),
    });
  });

  it("two bundles with the same highest version: upstream's error", () => {
    const r = derivePackageManifest([
      member('p.a', '1.0.0', ['a'], 'a'),
      member('p.b', '1.0.0', ['b'], 'a'),
    ]);
    expect(r).toMatchObject({
      ok: false,
      error: 'more than one bundle with maximum version 1.0.0',
    });
  });

  it('a version that is not semver fails the package', () => {
    const r = derivePackageManifest([member('p.x', '1.0', ['a'], 'a')]);
    expect(r).toMatchObject({
      ok: false,
      error: 'error parsing bundle p.x version 1.0: no Major.Minor.Patch elements found',
    });
  });

  it('input order does not change the result', () => {
    const ms = [
      member('p.v1.0.2', '1.0.2', ['x', 'y']),
      member('p.v1.0.1', '1.0.1', ['x', 'y'], 'y'),
      member('p.v1.0.0', '1.0.0', ['x'], 'x'),
    ];
    const a = derivePackageManifest(ms);
    const b = derivePackageManifest([...ms].reverse());
    expect(a).toEqual(b);
    expect(a.ok && a.manifest.defaultChannel).toBe('y');
  });
});
