// The build command's options: oc's flags with oc's defaults and error wording, our local
// settings, and SOURCE_DATE_EPOCH, turned into a BuildRequest.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_APPREGISTRY_ENDPOINT,
  DEFAULT_FILTER_BY_OS,
  defaultStoreDir,
  parseBuildOptions,
  parseSize,
} from '../../../lib/cli/build-options.js';
import { UsageError } from '../../../lib/errors.js';

const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) =>
  parseBuildOptions(argv, { env, buildId: 'b-1' });

/** The error `fn` throws (vitest's toThrow checks only one property at a time). */
function thrownBy(fn: () => unknown): Error | undefined {
  let caught: Error | undefined;
  expect(() => {
    try {
      fn();
    } catch (err) {
      caught = err as Error;
      throw err;
    }
  }).toThrow();
  return caught;
}

describe('parseBuildOptions', () => {
  it("applies oc's defaults: quay.io/cnr, linux/amd64, 4 per registry, secure", () => {
    const { request, local } = parse(['--appregistry-org', 'community-operators'], {
      XDG_CACHE_HOME: '/cache',
    });
    expect(DEFAULT_APPREGISTRY_ENDPOINT).toBe('https://quay.io/cnr');
    expect(DEFAULT_FILTER_BY_OS).toBe('linux/amd64');
    expect(request).toEqual({
      buildId: 'b-1',
      appRegistry: { endpoint: 'https://quay.io/cnr', org: 'community-operators' },
      filterByOs: 'linux/amd64',
      maxPerRegistry: 4,
    });
    expect(local).toMatchObject({
      storeDir: '/cache/olm-catalog-builder',
      skipVerification: false,
      quiet: false,
      help: false,
    });
  });

  it('builds offline from --manifest-dir, or unpacks there with --appregistry-org', () => {
    expect(parse(['--manifest-dir', 'm', '--to-db', 'out.db']).request.manifestDir).toBe('m');
    expect(parse(['--manifest-dir', 'm', '--to-db', 'out.db']).local.toDb).toBe('out.db');
    const both = parse(['--appregistry-org', 'o', '--manifest-dir', 'm']);
    expect(both.request.manifestDir).toBeUndefined();
    expect(both.local.unpackDir).toBe('m');
  });

  it('carries the upstream flags into the request and local settings', () => {
    const { request, local } = parse([
      '--appregistry-org=o',
      '--appregistry-endpoint',
      'http://127.0.0.1:1/cnr',
      '--auth-token',
      'basic abc',
      '--from',
      'registry.example/ns/base:1',
      '--to=registry.example/ns/out:1',
      '-a',
      'auth.json',
      '--insecure',
      '--skip-verification',
      '--filter-by-os',
      'linux/.*',
      '--max-per-registry=8',
      '--build-id',
      'mine',
      '--store',
      '/s',
    ]);
    expect(request).toEqual({
      buildId: 'mine',
      appRegistry: { endpoint: 'http://127.0.0.1:1/cnr', org: 'o' },
      from: 'registry.example/ns/base:1',
      to: 'registry.example/ns/out:1',
      filterByOs: 'linux/.*',
      insecure: true,
      maxPerRegistry: 8,
    });
    expect(local).toMatchObject({
      storeDir: '/s',
      registryConfig: 'auth.json',
      authToken: 'basic abc',
      skipVerification: true,
    });
  });

  it('treats --insecure=false as secure', () => {
    expect(parse(['--manifest-dir', 'm', '--insecure=false']).request.insecure).toBeUndefined();
  });

  it("requires a source, in oc's words", () => {
    const err = thrownBy(() => parse([]));
    expect(err).toBeInstanceOf(UsageError);
    expect(err?.message).toMatch(/^app-registry org \(namespace\) must be specified/);
  });

  it('rejects an empty App Registry endpoint', () => {
    expect(
      thrownBy(() => parse(['--appregistry-org', 'o', '--appregistry-endpoint=']))?.message,
    ).toBe('app-registry must be a valid app-registry endpoint');
  });

  it('rejects an invalid --filter-by-os regular expression', () => {
    const err = thrownBy(() => parse(['--manifest-dir', 'm', '--filter-by-os', 'linux/(amd64']));
    expect(err).toBeInstanceOf(UsageError);
    // The request schema's words, the field named by its flag.
    expect(err?.message).toBe(
      'validating build request: --filter-by-os "linux/(amd64" is not a regular expression',
    );
  });

  it('refuses --to without --from, and --from with nothing to push or write', () => {
    expect(thrownBy(() => parse(['--manifest-dir', 'm', '--to', 'r/x:1']))?.message).toMatch(
      /^unable to resolve base image - use --from/,
    );
    expect(thrownBy(() => parse(['--manifest-dir', 'm', '--from', 'scratch']))?.message).toMatch(
      /^--from needs --to/,
    );
    expect(
      parse(['--manifest-dir', 'm', '--from', 'scratch', '--to-db', 'x.db']).request.from,
    ).toBe('scratch');
  });

  it('bounds --max-per-registry', () => {
    expect(thrownBy(() => parse(['--manifest-dir', 'm', '--max-per-registry', '0']))?.message).toBe(
      'validating build request: --max-per-registry must be an integer from 1 to 64',
    );
  });

  it('reads SOURCE_DATE_EPOCH and rejects an invalid one', () => {
    expect(parse(['--manifest-dir', 'm'], { SOURCE_DATE_EPOCH: '0' }).request.sourceDateEpoch).toBe(
      0,
    );
    expect(
      parse(['--manifest-dir', 'm'], { SOURCE_DATE_EPOCH: '1700000000' }).request.sourceDateEpoch,
    ).toBe(1700000000);
    expect(
      parse(['--manifest-dir', 'm'], { SOURCE_DATE_EPOCH: '' }).request.sourceDateEpoch,
    ).toBeUndefined();
    for (const bad of ['yesterday', '-1', '1.5']) {
      const err = thrownBy(() => parse(['--manifest-dir', 'm'], { SOURCE_DATE_EPOCH: bad }));
      expect(err).toBeInstanceOf(UsageError);
      expect(err?.message).toBe(
        `SOURCE_DATE_EPOCH must be a whole number of seconds, got "${bad}"`,
      );
    }
  });

  it('rejects positional arguments and unknown flags', () => {
    expect(thrownBy(() => parse(['--manifest-dir', 'm', 'extra']))?.message).toMatch(
      /^unexpected arguments: extra/,
    );
    expect(thrownBy(() => parse(['--manifest-dir', 'm', '--nope']))?.message).toBe(
      'unknown flag: --nope',
    );
  });

  it('skips validation for --help', () => {
    const { local, request } = parse(['--help']);
    expect(local.help).toBe(true);
    expect(request).toEqual({ buildId: 'b-1' });
  });

  it('puts the default store under XDG_CACHE_HOME', () => {
    expect(defaultStoreDir({ XDG_CACHE_HOME: '/x' })).toBe('/x/olm-catalog-builder');
    expect(defaultStoreDir({})).toMatch(/\.cache\/olm-catalog-builder$/);
  });
});

describe('decode limits', () => {
  it('turns --max-* flags into the request, with size units', () => {
    const { request } = parseBuildOptions(
      [
        '--appregistry-org',
        'o',
        '--max-package-entries',
        '500',
        '--max-file-size',
        '8MiB',
        '--max-package-size',
        '1GB',
      ],
      { buildId: 'b1', env: {} },
    );
    expect(request.decodeLimits).toEqual({
      maxEntries: 500,
      maxFileBytes: 8 * 2 ** 20,
      maxTotalBytes: 1e9,
    });
  });

  it('leaves the limits out when no flag is given', () => {
    const { request } = parseBuildOptions(['--appregistry-org', 'o'], { buildId: 'b1', env: {} });
    expect(request.decodeLimits).toBeUndefined();
  });

  it('takes --index-format: sqlite-v7 by default (left out of the request), sqlite, never a typo', () => {
    expect(parse(['--manifest-dir', 'm']).request.indexFormat).toBeUndefined();
    expect(
      parse(['--manifest-dir', 'm', '--index-format', 'sqlite-v7']).request.indexFormat,
    ).toBeUndefined();
    expect(parse(['--manifest-dir', 'm', '--index-format', 'sqlite']).request.indexFormat).toBe(
      'sqlite',
    );
    const typo = thrownBy(() => parse(['--manifest-dir', 'm', '--index-format', 'sqlite13']));
    expect(typo).toBeInstanceOf(UsageError);
    expect(typo?.message).toBe(
      'validating build request: --index-format must be one of sqlite-v7, sqlite, fbc',
    );
  });

  it('takes --index-format fbc', () => {
    expect(parse(['--manifest-dir', 'm', '--index-format', 'fbc']).request.indexFormat).toBe('fbc');
  });

  it('refuses a size that is not one', () => {
    expect(() => parseSize('max-file-size', '12 parsecs')).toThrow(
      /invalid argument "12 parsecs" for "--max-file-size" flag/,
    );
    expect(() => parseSize('max-file-size', '0')).toThrow(UsageError);
  });
});
