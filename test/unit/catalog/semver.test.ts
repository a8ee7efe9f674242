// Versions and skipRanges with blang/semver's rules, which decide which skipRange edges an
// upgrade graph has: strict parsing, prerelease order, AND/OR ranges, wildcards, spaces.
import { describe, expect, it } from 'vitest';
import {
  compareSemVer,
  parseSemVer,
  parseSemVerRange,
  tryParseSemVer,
} from '../../../lib/catalog/semver.js';

const v = (s: string) => parseSemVer(s);
const inRange = (range: string, version: string) => parseSemVerRange(range)(v(version));

describe('semver', () => {
  it('parses strictly', () => {
    expect(tryParseSemVer('1.2.3-rc.1+build.5')).toEqual({
      major: '1',
      minor: '2',
      patch: '3',
      pre: [
        { num: false, value: 'rc' },
        { num: true, value: '1' },
      ],
      build: ['build', '5'],
    });
    for (const bad of ['', 'v1.2.3', '1.2', '01.2.3', '1.2.3-01', '1.2.3-', '1.2.3+', '1.2.x'])
      expect(tryParseSemVer(bad), bad).toBeUndefined();
  });

  it('orders releases, prereleases and large numbers', () => {
    const order = [
      '0.9.0',
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0',
      '1.10.0',
      '99999999999999999999.0.0',
    ];
    for (let i = 1; i < order.length; i++)
      expect(compareSemVer(v(order[i - 1]!), v(order[i]!))).toBe(-1);
    expect(compareSemVer(v('1.0.0+a'), v('1.0.0+b'))).toBe(0);
  });

  it('evaluates skipRanges as olm.skipRange annotations write them', () => {
    expect(inRange('>=1.0.2 <1.1.0', '1.0.2')).toBe(true);
    expect(inRange('>=1.0.2 <1.1.0', '1.1.0')).toBe(false);
    expect(inRange('>= 1.0.0 < 2.0.0', '1.5.0')).toBe(true);
    expect(inRange('<1.0.0 || >=3.0.0', '2.0.0')).toBe(false);
    expect(inRange('<1.0.0 || >=3.0.0', '3.1.0')).toBe(true);
    expect(inRange('1.2.x', '1.2.9')).toBe(true);
    expect(inRange('1.2.x', '1.3.0')).toBe(false);
    expect(inRange('<=1.x', '1.99.0')).toBe(true);
    expect(inRange('!=1.0.0', '1.0.0')).toBe(false);
    expect(inRange('>=0.0.0 <1.1.0', '1.1.0-rc.1')).toBe(true);
    expect(() => parseSemVerRange('>=1.0 <2.0.0')).toThrow();
    expect(() => parseSemVerRange('|| 1.0.0')).toThrow();
  });
});
