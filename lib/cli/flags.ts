// A small flag parser with the conventions of Go's pflag, which `oc` used, so command lines
// written for `oc adm catalog build` work unchanged: `--name value` and `--name=value`,
// booleans as `--insecure` or `--insecure=false`, short aliases (`-a FILE`), `--` ends flags.
// Unknown flags are errors worded like pflag's ("unknown flag: --x").
import { UsageError } from '../errors.js';

export interface FlagSpec {
  name: string;
  short?: string;
  type: 'string' | 'boolean' | 'number';
  default?: string | boolean | number;
  /** One line for --help; the value name, if any, in backquotes as pflag does. */
  help: string;
}

export type FlagValues = Record<string, string | boolean | number | undefined>;

export class FlagError extends UsageError {
  override name = 'FlagError';
}

function parseBool(flag: string, raw: string): boolean {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(raw)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(raw)) return false;
  throw new FlagError(
    `invalid argument "${raw}" for "--${flag}" flag: strconv.ParseBool: parsing "${raw}": invalid syntax`,
  );
}

/** Edit distance (insertions, deletions, substitutions) between two short strings. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(
        prev[j]! + 1,
        cur[j - 1]! + 1,
        prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    prev = cur;
  }
  return prev[b.length]!;
}

/** The known flag closest to a mistyped one (a typo, or a unique prefix), if any is close. */
export function didYouMean(key: string, names: readonly string[]): string | undefined {
  const prefixed = names.filter((n) => n.startsWith(key));
  if (prefixed.length === 1) return prefixed[0];
  let best: string | undefined;
  let bestD = Math.max(2, Math.floor(key.length / 4)) + 1;
  for (const n of names) {
    const d = distance(key, n);
    if (d < bestD) {
      best = n;
      bestD = d;
    }
  }
  return best;
}

export function parseFlags(
  argv: readonly string[],
  specs: readonly FlagSpec[],
): { values: FlagValues; args: string[] } {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short!, s]));
  const values: FlagValues = {};
  for (const s of specs) values[s.name] = s.default;
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === '--') {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (!token.startsWith('-') || token === '-') {
      args.push(token);
      continue;
    }
    const long = token.startsWith('--');
    const body = token.slice(long ? 2 : 1);
    const eq = body.indexOf('=');
    const key = eq === -1 ? body : body.slice(0, eq);
    const spec = long ? byName.get(key) : byShort.get(key);
    if (!spec) {
      const hint = long ? didYouMean(key, [...byName.keys()]) : undefined;
      throw new FlagError(
        long
          ? `unknown flag: --${key}${hint ? ` (did you mean --${hint}?)` : ''}`
          : `unknown shorthand flag: '${key}' in ${token}`,
      );
    }
    let raw: string | undefined = eq === -1 ? undefined : body.slice(eq + 1);
    if (spec.type === 'boolean') {
      values[spec.name] = raw === undefined ? true : parseBool(spec.name, raw);
      continue;
    }
    if (raw === undefined) {
      raw = argv[++i];
      if (raw === undefined) throw new FlagError(`flag needs an argument: --${spec.name}`);
    }
    if (spec.type === 'number') {
      const n = Number(raw);
      if (!Number.isInteger(n))
        throw new FlagError(`invalid argument "${raw}" for "--${spec.name}" flag: not an integer`);
      values[spec.name] = n;
    } else {
      values[spec.name] = raw;
    }
  }
  return { values, args };
}

export function formatFlagHelp(specs: readonly FlagSpec[]): string {
  const rows = specs.map((s) => {
    const value = s.type === 'boolean' ? '' : ` ${/`([^`]+)`/.exec(s.help)?.[1] ?? s.type}`;
    const left = `${s.short ? `-${s.short}, ` : '    '}--${s.name}${value}`;
    const def =
      s.default !== undefined && s.default !== false && s.default !== ''
        ? ` (default ${JSON.stringify(s.default)})`
        : '';
    return [left, s.help.replace(/`/g, '') + def] as const;
  });
  const width = Math.max(...rows.map(([l]) => l.length)) + 3;
  return rows.map(([l, r]) => `  ${l.padEnd(width)}${r}`).join('\n');
}
