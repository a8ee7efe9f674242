// Semantic versions and version ranges with the rules of the Go library operator-registry
// uses (blang/semver v4): strict MAJOR.MINOR.PATCH parsing, prerelease ordering, and the range
// syntax of `olm.skipRange` (space = AND, `||` = OR, `x` wildcards, an operator may be
// followed by spaces). Upgrade graphs must select exactly the bundles upstream selects, so
// this is not the npm `semver` dialect (which, e.g., accepts `v1.2.3` and loose forms).
import { CatalogError } from '../errors.js';

const DIGITS = /^[0-9]+$/;
const ALPHANUM = /^[0-9A-Za-z-]+$/;

export interface SemVer {
  /** Decimal digits without leading zeros, compared by length then bytewise (exact above 2^53). */
  major: string;
  minor: string;
  patch: string;
  /** Prerelease identifiers; numeric ones are kept as digit strings. */
  pre: Array<{ num: boolean; value: string }>;
  /** Build metadata identifiers (ignored by compareSemVer; buildIdCompare orders by them). */
  build?: string[];
}

export class SemVerError extends CatalogError {
  override name = 'SemVerError';
}

function numeric(part: string, what: string): string {
  if (!DIGITS.test(part)) throw new SemVerError(`invalid character(s) in ${what} number "${part}"`);
  if (part.length > 1 && part[0] === '0')
    throw new SemVerError(`${what} number must not contain leading zeroes "${part}"`);
  return part;
}

/** Parses a version strictly; throws SemVerError. */
export function parseSemVer(text: string): SemVer {
  if (text.length === 0) throw new SemVerError('version string empty');
  const first = text.indexOf('.');
  const second = first < 0 ? -1 : text.indexOf('.', first + 1);
  if (second < 0) throw new SemVerError('no Major.Minor.Patch elements found');
  const major = numeric(text.slice(0, first), 'major');
  const minor = numeric(text.slice(first + 1, second), 'minor');
  let rest = text.slice(second + 1);
  const plus = rest.indexOf('+');
  let build: string[] = [];
  if (plus >= 0) {
    build = rest.slice(plus + 1).split('.');
    rest = rest.slice(0, plus);
  }
  const dash = rest.indexOf('-');
  let preParts: string[] = [];
  if (dash >= 0) {
    preParts = rest.slice(dash + 1).split('.');
    rest = rest.slice(0, dash);
  }
  const patch = numeric(rest, 'patch');
  const pre = preParts.map((p) => {
    if (p.length === 0) throw new SemVerError('prerelease is empty');
    if (DIGITS.test(p)) {
      if (p.length > 1 && p[0] === '0')
        throw new SemVerError(`numeric prerelease must not contain leading zeroes "${p}"`);
      return { num: true, value: p };
    }
    if (!ALPHANUM.test(p)) throw new SemVerError(`invalid character(s) in prerelease "${p}"`);
    return { num: false, value: p };
  });
  for (const b of build) {
    if (b.length === 0) throw new SemVerError('build metadata is empty');
    if (!ALPHANUM.test(b)) throw new SemVerError(`invalid character(s) in build metadata "${b}"`);
  }
  return { major, minor, patch, pre, ...(build.length > 0 ? { build } : {}) };
}

export function tryParseSemVer(text: string): SemVer | undefined {
  try {
    return parseSemVer(text);
  } catch {
    return undefined;
  }
}

/** The version Go's zero value stands for: what a bundle without a parsable version counts as. */
export const ZERO_VERSION: SemVer = { major: '0', minor: '0', patch: '0', pre: [] };

function compareDigits(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a === b ? 0 : a < b ? -1 : 1;
}

/** -1, 0 or 1; build metadata is ignored, a prerelease sorts before its release. */
export function compareSemVer(a: SemVer, b: SemVer): number {
  const c =
    compareDigits(a.major, b.major) ||
    compareDigits(a.minor, b.minor) ||
    compareDigits(a.patch, b.patch);
  if (c !== 0) return c;
  if (a.pre.length === 0 || b.pre.length === 0) {
    if (a.pre.length === b.pre.length) return 0;
    return a.pre.length === 0 ? 1 : -1;
  }
  const n = Math.min(a.pre.length, b.pre.length);
  for (let i = 0; i < n; i++) {
    const x = a.pre[i]!;
    const y = b.pre[i]!;
    if (x.num !== y.num) return x.num ? -1 : 1;
    const d = x.num
      ? compareDigits(x.value, y.value)
      : x.value === y.value
        ? 0
        : x.value < y.value
          ? -1
          : 1;
    if (d !== 0) return d;
  }
  return a.pre.length === b.pre.length ? 0 : a.pre.length < b.pre.length ? -1 : 1;
}

/**
 * operator-registry's BuildIdCompare (pkg/lib/semver): versions equal by precedence are then
 * ordered by their build ids compared as prerelease identifiers, and no build id sorts first
 * (1.0.0 < 1.0.0+1 < 1.0.0+2 < 1.0.0+a). A numeric build id with a leading zero cannot be a
 * prerelease identifier: SemVerError, as upstream's error.
 */
export function buildIdCompare(a: SemVer, b: SemVer): number {
  const c = compareSemVer(a, b);
  if (c !== 0) return c;
  const asPre = (v: SemVer): SemVer => {
    const build = v.build ?? [];
    return build.length === 0 ? ZERO_VERSION : parseSemVer(`1.0.0-${build.join('.')}`);
  };
  return compareSemVer(asPre(a), asPre(b));
}

export type SemVerRange = (v: SemVer) => boolean;

/** Splits on spaces, except spaces that follow an operator character (">= 1.0.0" is one part). */
function splitParts(s: string): string[] {
  const out: string[] = [];
  let last = 0;
  let lastChar = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] === ' ' && !'><='.includes(lastChar || '_')) {
      if (last < i - 1) out.push(s.slice(last, i));
      last = i + 1;
    } else if (s[i] !== ' ') {
      lastChar = s[i]!;
    }
  }
  if (last < s.length - 1) out.push(s.slice(last));
  return out.map((p) => p.replace(/ /g, ''));
}

function splitOperator(part: string): [string, string] {
  const i = part.search(/[0-9]/);
  if (i < 0) throw new SemVerError(`could not get version from string "${part}"`);
  return [part.slice(0, i).trim(), part.slice(i)];
}

function bump(version: string, index: 0 | 1): string {
  const parts = version.split('.');
  const n = Number.parseInt(parts[index] ?? '', 10);
  // Go's Atoi error is ignored upstream, leaving an empty version that then fails to parse.
  if (!Number.isFinite(n) || !DIGITS.test(parts[index] ?? '')) return '';
  parts[index] = String(n + 1);
  return parts.join('.');
}

/** `1.2.x` / `1.x` → the comparisons they stand for. */
function expandWildcard(part: string): string[] {
  if (!part.includes('x')) return [part];
  const [op, version] = splitOperator(part);
  const pieces = version.split('.');
  const kind = pieces.at(-1) === 'x' ? pieces.length : 0; // 3: patch wildcard, 2: minor
  let flat = version.replace('.x.x', '.x').replace('.x', '.0');
  if (flat.split('.').length === 2) flat += '.0';
  const before: string[] = [];
  let resultOp = '';
  let increment = false;
  switch (op) {
    case '>':
      resultOp = '>=';
      increment = true;
      break;
    case '>=':
      resultOp = '>=';
      break;
    case '<':
      resultOp = '<';
      break;
    case '<=':
      resultOp = '<';
      increment = true;
      break;
    case '':
    case '=':
    case '==':
      before.push(`>=${flat}`);
      resultOp = '<';
      increment = true;
      break;
    case '!=':
    case '!':
      before.push(`<${flat}`);
      resultOp = '>=';
      increment = true;
      break;
  }
  let result = flat;
  if (increment) result = kind === 3 ? bump(flat, 1) : kind === 2 ? bump(flat, 0) : '';
  return [...before, resultOp + result];
}

function comparator(op: string): ((c: number) => boolean) | undefined {
  switch (op) {
    case '':
    case '=':
    case '==':
      return (c) => c === 0;
    case '!':
    case '!=':
      return (c) => c !== 0;
    case '>':
      return (c) => c === 1;
    case '>=':
      return (c) => c >= 0;
    case '<':
      return (c) => c === -1;
    case '<=':
      return (c) => c <= 0;
  }
  return undefined;
}

/** Parses a range such as ">=1.0.2 <1.1.0 || 2.x"; throws SemVerError. */
export function parseSemVerRange(text: string): SemVerRange {
  const parts = splitParts(text);
  const groups: string[][] = [];
  let last = 0;
  parts.forEach((p, i) => {
    if (p !== '||') return;
    if (i === 0) throw new SemVerError("first element in range is '||'");
    groups.push(parts.slice(last, i));
    last = i + 1;
  });
  if (last === parts.length) throw new SemVerError("last element in range is '||'");
  groups.push(parts.slice(last));
  const alternatives = groups.map((group) => {
    const tests = group.flatMap(expandWildcard).map((part) => {
      const [op, version] = splitOperator(part);
      const cmp = comparator(op);
      if (!cmp) throw new SemVerError(`could not parse comparator "${op}" in "${part}"`);
      const bound = parseSemVer(version);
      return (v: SemVer) => cmp(compareSemVer(v, bound));
    });
    return (v: SemVer) => tests.every((t) => t(v));
  });
  return (v) => alternatives.some((a) => a(v));
}
