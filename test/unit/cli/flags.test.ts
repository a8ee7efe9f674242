// pflag conventions, as `oc` parsed its flags, so upstream command lines work unchanged.
import { describe, expect, it } from 'vitest';
import { FlagError, type FlagSpec, formatFlagHelp, parseFlags } from '../../../lib/cli/flags.js';
import { UsageError } from '../../../lib/errors.js';

const SPECS: FlagSpec[] = [
  { name: 'to', type: 'string', help: 'The image `REF` to push to' },
  { name: 'registry-config', short: 'a', type: 'string', help: 'Credentials `FILE`' },
  { name: 'insecure', type: 'boolean', default: false, help: 'Allow HTTP' },
  { name: 'quiet', short: 'q', type: 'boolean', default: false, help: 'Less output' },
  { name: 'max', type: 'number', default: 4, help: 'Parallelism' },
];

const parse = (...argv: string[]) => parseFlags(argv, SPECS);

function failure(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}

describe('parseFlags', () => {
  it('accepts --name=value and --name value', () => {
    expect(parse('--to=r/x:1').values.to).toBe('r/x:1');
    expect(parse('--to', 'r/x:1').values.to).toBe('r/x:1');
    expect(parse('--to=a=b').values.to).toBe('a=b');
    expect(parse('--to=').values.to).toBe('');
  });

  it('accepts a short alias with its value as the next argument', () => {
    expect(parse('-a', 'auth.json').values['registry-config']).toBe('auth.json');
    expect(parse('-q').values.quiet).toBe(true);
  });

  it('reads booleans as flags or with =true/=false (and the other strconv.ParseBool spellings)', () => {
    expect(parse().values.insecure).toBe(false);
    expect(parse('--insecure').values.insecure).toBe(true);
    expect(parse('--insecure=false').values.insecure).toBe(false);
    expect(parse('--insecure=true').values.insecure).toBe(true);
    expect(parse('--insecure=0').values.insecure).toBe(false);
    expect(parse('--insecure=T').values.insecure).toBe(true);
    // A boolean never takes the next argument as its value.
    expect(parse('--insecure', 'false')).toEqual({
      values: { to: undefined, 'registry-config': undefined, insecure: true, quiet: false, max: 4 },
      args: ['false'],
    });
  });

  it('rejects a malformed boolean as pflag does', () => {
    expect(failure(() => parse('--insecure=maybe')).message).toBe(
      'invalid argument "maybe" for "--insecure" flag: strconv.ParseBool: parsing "maybe": invalid syntax',
    );
  });

  it('applies defaults, parses numbers and rejects non-integers', () => {
    expect(parse().values.max).toBe(4);
    expect(parse('--max', '8').values.max).toBe(8);
    expect(failure(() => parse('--max=1.5')).message).toBe(
      'invalid argument "1.5" for "--max" flag: not an integer',
    );
  });

  it('words unknown flags like pflag', () => {
    const long = failure(() => parse('--nope'));
    expect(long).toBeInstanceOf(FlagError);
    expect(long).toBeInstanceOf(UsageError);
    expect(long.name).toBe('FlagError');
    expect(long.message).toBe('unknown flag: --nope');
    expect(failure(() => parse('-z')).message).toBe("unknown shorthand flag: 'z' in -z");
    expect(failure(() => parse('--nope=1')).message).toBe('unknown flag: --nope');
  });

  it('reports a missing argument', () => {
    expect(failure(() => parse('--to')).message).toBe('flag needs an argument: --to');
    expect(failure(() => parse('-a')).message).toBe('flag needs an argument: --registry-config');
  });

  it('keeps positional arguments and stops at "--"', () => {
    expect(parse('x', '--quiet', '-', '--', '--to', 'y').args).toEqual(['x', '-', '--to', 'y']);
    expect(parse('--', '--to').values.to).toBeUndefined();
  });

  it('lets a later flag win', () => {
    expect(parse('--to', 'a', '--to=b').values.to).toBe('b');
  });
});

describe('formatFlagHelp', () => {
  it('lists every flag with its short form, value name and non-trivial default', () => {
    const help = formatFlagHelp(SPECS);
    expect(help.split('\n')).toHaveLength(SPECS.length);
    expect(help).toMatch(/^ {6}--to REF +The image REF to push to$/m);
    expect(help).toMatch(/^ {2}-a, --registry-config FILE +Credentials FILE$/m);
    expect(help).toMatch(/--max number +Parallelism \(default 4\)$/m);
    expect(help).toMatch(/--insecure +Allow HTTP$/m);
  });
});
