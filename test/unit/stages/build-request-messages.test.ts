// The one request schema speaks two vocabularies: JSON field paths for the API
// (`appRegistry.org`), and the flags a value came from for the CLI (`--appregistry-org`).
// A nested field is named as itself in either, never as its parent's label plus a key
// (`--appregistry-org/--appregistry-endpoint.org`), and a refused value says what is valid.
import { describe, expect, it } from 'vitest';
import { parseBuildOptions } from '../../../lib/cli/build-options.js';
import { executionInput, validateBuildRequest } from '../../../lib/stages/build-request.js';

/** The message of what `fn` throws. */
function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected a validation error');
}

const cli = (...argv: string[]) =>
  messageOf(() => parseBuildOptions(argv, { env: {}, buildId: 'b-1' }));
const api = (body: Record<string, unknown>) => messageOf(() => validateBuildRequest(body));

describe('request schema messages', () => {
  it('names a nested App Registry field by its flag on the command line', () => {
    const org = cli('--appregistry-org', '..');
    expect(org).toContain(
      `--appregistry-org ".." is not valid: an org is letters, digits, '.', '_' and '-', starting with a letter or digit`,
    );
    expect(org).not.toMatch(/--appregistry-endpoint\.|\/--appregistry|appRegistry\./);
    const endpoint = cli('--appregistry-org', 'demo', '--appregistry-endpoint', 'file:///etc/x');
    expect(endpoint).toContain('--appregistry-endpoint must be an http(s) URL, not file:');
    expect(endpoint).not.toContain('--appregistry-org');
    expect(cli('--appregistry-org', 'demo', '--appregistry-endpoint', 'quay io')).toContain(
      '--appregistry-endpoint "quay io" is not a URL',
    );
  });

  it('names a nested field by its JSON path in the API', () => {
    const msg = api({ appRegistry: { endpoint: 'ftp://x.example/cnr', org: 'a/b' } });
    expect(msg).toContain('appRegistry.endpoint must be an http(s) URL, not ftp:');
    expect(msg).toContain(`appRegistry.org "a/b" is not valid: an org is letters`);
    expect(msg).not.toMatch(/--/);
    expect(
      api({
        manifestDir: '/m',
        webhook: { url: 'https://hook.example', hmacSecret: 'no spaces allowed' },
      }),
    ).toContain('webhook.hmacSecret "no spaces allowed" is not valid: a secret is named');
    expect(api({ manifestDir: '/m', decodeLimits: { maxEntries: 0 } })).toContain(
      'decodeLimits.maxEntries must be a positive integer',
    );
    expect(
      api({ manifestDir: '/m', appRegistry: { endpoint: 'https://x', org: 'o', x: 1 } }),
    ).toContain('unknown field "appRegistry.x"');
  });

  it('names top-level fields by flag or path alike, with the refused value', () => {
    expect(cli('--manifest-dir', '/m', '--build-id', '../x')).toContain(
      '--build-id "../x" is not valid: a build id is letters',
    );
    expect(api({ manifestDir: '/m', buildId: '../x' })).toContain('buildId "../x" is not valid');
    expect(cli('--manifest-dir', '/m', '--filter-by-os', 'linux/(amd64')).toContain(
      '--filter-by-os "linux/(amd64" is not a regular expression',
    );
  });

  it('names the App Registry caps by their own flags', () => {
    // parseSize accepts only positive sizes, so a 0 never reaches the schema from the CLI;
    // --max-packages 0 does (an integer flag).
    expect(cli('--appregistry-org', 'demo', '--max-packages', '0')).toMatch(
      /--max-packages must be a positive integer/,
    );
  });

  it("takes a store key prefix of bundle folders as a source, outside the store's own areas", () => {
    expect(validateBuildRequest({ bundlePrefix: 'incoming/operators' }).bundlePrefix).toBe(
      'incoming/operators/',
    );
    expect(api({ bundlePrefix: 'incoming/../builds' })).toContain(
      'bundlePrefix "incoming/../builds" is not valid: a key prefix is',
    );
    expect(api({ bundlePrefix: '/abs' })).toContain('bundlePrefix "/abs" is not valid');
    expect(api({ bundlePrefix: 'builds/old' })).toContain(
      "bundlePrefix must not be in the store's own builds/ area",
    );
    expect(api({ bundlePrefix: 'a/', bundles: ['quay.io/a/b:1'] })).toContain(
      'bundles and bundlePrefix are exclusive',
    );
    expect(api({})).toContain(
      'one of appRegistry {endpoint, org}, manifestDir, bundles or bundlePrefix is required',
    );
    // The CLI has no such flag: its message does not offer one.
    expect(cli('--to-db', 'x.db')).not.toContain('bundlePrefix');
  });

  it('reads an execution input back: a bundle list stands there as its count', () => {
    const started = executionInput(
      validateBuildRequest({ buildId: 'b-x', bundles: ['quay.io/a/b:1', 'quay.io/a/c:2'] }),
    );
    expect(started).toEqual({ buildId: 'b-x', bundleCount: 2 });
    expect(validateBuildRequest(started, { executionInput: true })).toEqual({ buildId: 'b-x' });
    expect(api(started)).toContain('unknown field "bundleCount"');
    expect(
      messageOf(() => validateBuildRequest({ bundleCount: 0 }, { executionInput: true })),
    ).toContain('bundleCount must be an integer from 1 to 50000');
  });
});
