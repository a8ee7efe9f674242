// The command line's process-wide settings: the AWS SDK's Node-version notice is turned off
// for CLI runs (its users cannot act on it), and an explicit setting is respected.
import { afterEach, describe, expect, it } from 'vitest';
import { runCliInProcess } from '../../support/cli-in-process.js';

const KEY = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';
const saved = process.env[KEY];
afterEach(() => {
  if (saved === undefined) delete process.env[KEY];
  else process.env[KEY] = saved;
});

describe('catalog-build main', () => {
  it('turns the AWS SDK Node-version notice off', async () => {
    delete process.env[KEY];
    const run = await runCliInProcess(['--help']);
    expect(run.code).toBe(0);
    expect(process.env[KEY]).toBe('true');
  });
  it('keeps an explicit setting', async () => {
    process.env[KEY] = 'false';
    await runCliInProcess(['--help']);
    expect(process.env[KEY]).toBe('false');
  });
});
