// First-document decoding as operator-registry v1.8.0 did it (k8s YAMLOrJSONDecoder over
// sigs.k8s.io/yaml and go-yaml v2): which document is read, how scalars resolve, and what
// counts as a Kubernetes object. These decide which files are bundle objects and the bytes
// stored for them.
import { describe, expect, it } from 'vitest';
import {
  asKubernetesObject,
  type DocumentResult,
  decodeFirstDocument,
  firstDocumentText,
} from '../../../lib/catalog/yaml-document.js';

const decode = (text: string | Uint8Array) =>
  decodeFirstDocument(typeof text === 'string' ? new TextEncoder().encode(text) : text);

function value(text: string | Uint8Array): unknown {
  const r = decode(text);
  if (!r.ok) throw new Error(`expected a document, got error ${r.error}`);
  return r.value;
}

describe('first document only', () => {
  it('reads the first document and ignores a broken second one', () => {
    expect(value('kind: A\nx: 1\n---\nkind: [broken\n  - : :\n')).toEqual({ kind: 'A', x: 1 });
  });

  it('skips a leading "---" and empty documents before the first one', () => {
    expect(value('---\nkind: A\n')).toEqual({ kind: 'A' });
    expect(value('---\n---\n---\nkind: B\n---\nkind: C\n')).toEqual({ kind: 'B' });
  });

  it('treats "---" followed only by white space as a separator', () => {
    expect(value('kind: A\n---   \nkind: B\n')).toEqual({ kind: 'A' });
    expect(value('---\t \nkind: B\n')).toEqual({ kind: 'B' });
    expect(firstDocumentText('a: 1\n--- \r\nb: 2\n')).toBe('a: 1\n');
  });

  it('does not split on "----" or on "--- text"', () => {
    expect(firstDocumentText('a: |\n  x\n----\n')).toBe('a: |\n  x\n----\n');
    expect(firstDocumentText('--- kind: A\n---\nkind: B\n')).toBe('--- kind: A\n');
  });

  it('returns a comment-only first document as it is (not the next document)', () => {
    const r = decode('# just a comment\n---\nkind: A\n');
    expect(r).toEqual({ ok: true, value: null });
    expect(asKubernetesObject(r)).toBeUndefined();
  });

  it('reports EOF for an empty file or one holding only separators', () => {
    expect(decode('')).toEqual({ ok: false, error: 'EOF' });
    expect(decode('---\n---\n')).toEqual({ ok: false, error: 'EOF' });
  });

  it('reports a YAML syntax error of the first document as an error', () => {
    const r = decode('kind: [unclosed\n');
    expect(r.ok).toBe(false);
  });
});

describe('JSON and BOM', () => {
  it('reads a file whose first non-blank character is "{" as JSON', () => {
    expect(value('  \n{"kind": "A", "n": 9007199254740993, "s": "x\\u003cy"}\n')).toEqual({
      kind: 'A',
      n: 9007199254740993n,
      s: 'x<y',
    });
  });

  it('does not split JSON on "---" lines (a JSON string may contain one)', () => {
    expect(value('{"kind": "A",\n"s": "a\\nb"\n}\n')).toEqual({ kind: 'A', s: 'a\nb' });
  });

  it('skips a UTF-8 byte order mark before YAML and before JSON', () => {
    const bom = [0xef, 0xbb, 0xbf];
    const withBom = (s: string) => new Uint8Array([...bom, ...new TextEncoder().encode(s)]);
    expect(value(withBom('kind: A\n'))).toEqual({ kind: 'A' });
    expect(value(withBom('{"kind":"B"}'))).toEqual({ kind: 'B' });
  });
});

describe('scalar resolution as go-yaml v2', () => {
  it('resolves the YAML 1.1 booleans, y and n included', () => {
    const doc = value(
      'a: yes\nb: No\nc: on\nd: OFF\ne: y\nf: n\ng: Y\nh: N\ni: true\nj: False\nk: "yes"\nl: yess\n',
    );
    expect(doc).toEqual({
      a: true,
      b: false,
      c: true,
      d: false,
      e: true,
      f: false,
      g: true,
      h: false,
      i: true,
      j: false,
      k: 'yes',
      l: 'yess',
    });
  });

  it('turns non-string keys into strings (a boolean key becomes "true")', () => {
    expect(value('y: 1\n2: b\n')).toEqual({ true: 1, '2': 'b' });
  });

  it('keeps timestamps as the strings written', () => {
    expect(
      value('created: 2020-04-07T10:00:00Z\nday: 2001-12-14\nspaced: 2001-12-14 21:59:43.10 -5\n'),
    ).toEqual({
      created: '2020-04-07T10:00:00Z',
      day: '2001-12-14',
      spaced: '2001-12-14 21:59:43.10 -5',
    });
  });

  it('keeps integers exact: numbers up to 2^53, BigInt up to int64, a float beyond', () => {
    const doc = value(
      'small: 42\nneg: -7\nsafe: 9007199254740991\nbig: 9007199254740993\nmax: 9223372036854775807\nmin: -9223372036854775808\nover: 9223372036854775808\nunder: -9223372036854775809\n',
    ) as Record<string, unknown>;
    expect(doc.small).toBe(42);
    expect(doc.neg).toBe(-7);
    expect(doc.safe).toBe(9007199254740991);
    expect(doc.big).toBe(9007199254740993n);
    expect(doc.max).toBe(9223372036854775807n);
    expect(doc.min).toBe(-9223372036854775808n);
    expect(typeof doc.over).toBe('number');
    expect(doc.over).toBe(2 ** 63);
    expect(doc.under).toBe(-(2 ** 63));
    expect(typeof doc.under).toBe('number');
  });

  it('resolves floats, null and leaves other scalars as strings', () => {
    // (A key "n" would itself be the boolean false, hence "nil" below.)
    expect(value('f: 1.5\ne: 1e3\nz: ~\nnil: null\ns: 1.2.3\nv: v1\n')).toEqual({
      f: 1.5,
      e: 1000,
      z: null,
      nil: null,
      s: '1.2.3',
      v: 'v1',
    });
  });

  it('resolves every form the resolvers screen by first character and length', () => {
    expect(
      value(
        'a: .5\nb: -.inf\nc: +.INF\nd: .NaN\ne: +12\nf: 0x1F\ng: -0o17\nh: 0b101\ni: NULL\nj: Null\nk:\nl: FALSE\nm: Off\nn1: nulls\no: offf\np: _1\nq: é\n',
      ),
    ).toEqual({
      a: 0.5,
      b: Number.NEGATIVE_INFINITY,
      c: Number.POSITIVE_INFINITY,
      d: Number.NaN,
      e: 12,
      f: 31,
      g: -15,
      h: 5,
      i: null,
      j: null,
      k: null,
      l: false,
      m: false,
      n1: 'nulls',
      o: 'offf',
      p: '_1',
      q: 'é',
    });
  });

  it('takes the last value of a duplicate key', () => {
    expect(value('a: 1\nb: 2\na: 3\n')).toEqual({ a: 3, b: 2 });
    expect(value('{"a": 1, "a": 2}')).toEqual({ a: 2 });
  });
});

describe('asKubernetesObject', () => {
  const ok = (v: unknown): DocumentResult => ({ ok: true, value: v });

  it('accepts a mapping with a non-empty string kind', () => {
    expect(asKubernetesObject(decode('kind: Service\nmetadata: {name: s}\n'))).toEqual({
      kind: 'Service',
      metadata: { name: 's' },
    });
  });

  it('rejects a mapping without kind, with an empty kind or with a non-string kind', () => {
    expect(asKubernetesObject(ok({ apiVersion: 'v1' }))).toBeUndefined();
    expect(asKubernetesObject(ok({ kind: '' }))).toBeUndefined();
    expect(asKubernetesObject(decode('kind: 5\n'))).toBeUndefined();
    expect(asKubernetesObject(decode('kind: yes\n'))).toBeUndefined();
    expect(asKubernetesObject(decode('kind: {a: b}\n'))).toBeUndefined();
  });

  it('rejects scalars, lists, null and decoding errors', () => {
    expect(asKubernetesObject(decode('just a string\n'))).toBeUndefined();
    expect(asKubernetesObject(decode('42\n'))).toBeUndefined();
    expect(asKubernetesObject(decode('- kind: A\n'))).toBeUndefined();
    expect(asKubernetesObject(ok(null))).toBeUndefined();
    expect(asKubernetesObject({ ok: false, error: 'EOF' })).toBeUndefined();
  });
});

describe('decoding limits', () => {
  // Small limits, so each case is a few kB; the defaults are checked by test/hostile (bombs,
  // 20 000-deep documents, a 16 MiB string). A short document without anchors is not walked
  // (withinLimits), so these cases check both that and the walk the others get.
  const limits = {
    maxDocumentBytes: 1 << 20,
    maxExpandedBytes: 10_000,
    maxDepth: 8,
    maxStringBytes: 1000,
  };
  const decodeWithin = (text: string) =>
    decodeFirstDocument(new TextEncoder().encode(text), limits);
  const limitOf = (text: string) => {
    const r = decodeWithin(text);
    return r.ok ? 'ok' : r.limit;
  };

  it('refuses an alias bomb whose text is far below every limit', () => {
    // Each level is ten aliases of the one before: 10^4 strings from 150 characters.
    const laughs = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (const [prev, next] of [
      ['a', 'b'],
      ['b', 'c'],
      ['c', 'd'],
    ])
      laughs.push(`${next}: &${next} [${Array(10).fill(`*${prev}`).join(', ')}]`);
    expect(laughs.join('\n').length).toBeLessThan(200);
    expect(limitOf(laughs.join('\n'))).toBe('DocumentLimitError');
    expect(limitOf('a: &a [x]\nb: *a\n')).toBe('ok');
    expect(decodeWithin('a: &a [x]\nb: *a\n')).toEqual({ ok: true, value: { a: ['x'], b: ['x'] } });
  });

  it('refuses a document without aliases that expands beyond the limit (nulls, 8 bytes each)', () => {
    expect(limitOf('-\n'.repeat(1200))).toBe('ok');
    expect(limitOf('-\n'.repeat(1300))).toBe('DocumentLimitError');
  });

  it('refuses nesting beyond the limit where flow pairs nest two levels per parser level', () => {
    // [a: [a: …]]: each sequence holds a one-pair mapping the parser makes without a node.
    const pairs = (n: number) => `${'[a: '.repeat(n)}1${']'.repeat(n)}`;
    expect(decodeWithin(pairs(2))).toEqual({ ok: true, value: [{ a: [{ a: 1 }] }] });
    expect(limitOf(pairs(4))).toBe('ok'); // deepest object at depth 7
    expect(limitOf(pairs(5))).toBe('DocumentLimitError'); // at depth 9, the parser's only 6
  });

  it('refuses a string over the limit, and a key that resolves longer than its text', () => {
    expect(limitOf(`k: ${'x'.repeat(999)}`)).toBe('ok');
    expect(limitOf(`k: ${'x'.repeat(1001)}`)).toBe('DocumentLimitError');
    expect(decodeWithin('~: 1\n')).toEqual({ ok: true, value: { null: 1 } });
  });
});
