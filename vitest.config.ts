// Test runner configuration. Integration tests start real servers (docker-registry, s3rver,
// our App Registry server) on 127.0.0.1, so they get generous timeouts; none of them assert
// on wall time (that is what bench/ is for).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    setupFiles: ['test/support/setup.ts'],
    // s3rver pages lists with a DES cipher, which OpenSSL 3 only offers with the legacy provider.
    execArgv: ['--openssl-legacy-provider'],
  },
});
