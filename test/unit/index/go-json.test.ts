// The Go encoding/json encoder, checked against what Go 1.19's json.Marshal / Encoder.Encode
// print for the same values. The index's csv/bundle columns are compared by sha256 with
// upstream's, so every expectation below is Go's literal output, byte for byte.
import { describe, expect, it } from 'vitest';
import { formatGoFloat, goJsonEncode, goJsonMarshal } from '../../../lib/index/go-json.js';

const utf8 = (s: string) => new TextEncoder().encode(s);

describe('goJsonMarshal strings', () => {
  it('escapes quote and backslash, and \\n \\r \\t by their short forms', () => {
    expect(goJsonMarshal('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(goJsonMarshal('l1\nl2\r\tx')).toBe('"l1\\nl2\\r\\tx"');
  });

  it('writes other control characters as \\u00XX, \\b and \\f included (Go 1.19)', () => {
    expect(goJsonMarshal('\b\f')).toBe('"\\u0008\\u000c"');
    expect(goJsonMarshal('\u0000\u0001\u001b\u001f')).toBe('"\\u0000\\u0001\\u001b\\u001f"');
  });

  it('leaves DEL and the other printable ASCII characters alone', () => {
    expect(goJsonMarshal("\u007f ~'/")).toBe('"\u007f ~\'/"');
  });

  it('escapes the HTML characters < > & as Go does by default', () => {
    expect(goJsonMarshal('<a href="x">&amp;</a>')).toBe(
      '"\\u003ca href=\\"x\\"\\u003e\\u0026amp;\\u003c/a\\u003e"',
    );
  });

  it('escapes U+2028 and U+2029 (JSONP safety) but no other non-ASCII character', () => {
    expect(goJsonMarshal('a\u2028b\u2029c')).toBe('"a\\u2028b\\u2029c"');
    expect(goJsonMarshal('é日本😀\u00a0\u2027\u202a')).toBe('"é日本😀\u00a0\u2027\u202a"');
  });

  it('keeps non-ASCII characters as raw UTF-8 bytes', () => {
    expect([...goJsonEncode('é😀')]).toEqual([
      0x22, 0xc3, 0xa9, 0xf0, 0x9f, 0x98, 0x80, 0x22, 0x0a,
    ]);
  });

  it('replaces a lone surrogate by U+FFFD, as Go decodes "\\ud800" from JSON and re-encodes it', () => {
    expect(goJsonMarshal('a\ud800b')).toBe('"a\ufffdb"');
    expect(goJsonMarshal('a\udc00')).toBe('"a\ufffd"');
    expect(goJsonMarshal('\ud83d')).toBe('"\ufffd"');
    // A low surrogate before a high one is two lone surrogates, not a pair.
    expect(goJsonMarshal('\ude00\ud83d')).toBe('"\ufffd\ufffd"');
    // A proper pair is one character.
    expect(goJsonMarshal('\ud83d\ude00')).toBe('"😀"');
  });
});

describe('goJsonMarshal objects and arrays', () => {
  it('sorts keys by their UTF-8 bytes', () => {
    expect(goJsonMarshal({ b: 1, a: 2, B: 3, _: 4, Z: 5, aa: 6, 'a.b': 7, '': 8 })).toBe(
      '{"":8,"B":3,"Z":5,"_":4,"a":2,"a.b":7,"aa":6,"b":1}',
    );
  });

  it('orders U+FF61 before U+1F600 (UTF-8 order), although UTF-16 order is the reverse', () => {
    // UTF-8: EF BD A1 < F0 9F 98 80; UTF-16: FF61 > D83D.
    expect(goJsonMarshal({ '😀': 2, '｡': 1 })).toBe('{"｡":1,"😀":2}');
    expect(goJsonMarshal({ '\uffff': 1, '\u{10000}': 2, '\ue000': 3 })).toBe(
      '{"\ue000":3,"\uffff":1,"\u{10000}":2}',
    );
  });

  it('escapes keys like values', () => {
    expect(goJsonMarshal({ 'a<b': '"' })).toBe('{"a\\u003cb":"\\""}');
  });

  it('encodes nested objects and arrays compactly, sorting every level', () => {
    const value = { z: [1, { d: null, c: true }, [], {}], a: { y: false, x: 'v' } };
    expect(goJsonMarshal(value)).toBe(
      '{"a":{"x":"v","y":false},"z":[1,{"c":true,"d":null},[],{}]}',
    );
  });

  it('encodes null and booleans', () => {
    expect(goJsonMarshal(null)).toBe('null');
    expect(goJsonMarshal(true)).toBe('true');
    expect(goJsonMarshal(false)).toBe('false');
    expect(goJsonMarshal([null, true, false])).toBe('[null,true,false]');
  });
});

describe('goJsonMarshal numbers', () => {
  it('writes integers exactly, BigInt beyond 2^53 included', () => {
    expect(goJsonMarshal(0)).toBe('0');
    expect(goJsonMarshal(-42)).toBe('-42');
    expect(goJsonMarshal(9007199254740991)).toBe('9007199254740991');
    expect(goJsonMarshal(9007199254740993n)).toBe('9007199254740993');
    expect(goJsonMarshal(9223372036854775807n)).toBe('9223372036854775807');
    expect(goJsonMarshal(-9223372036854775808n)).toBe('-9223372036854775808');
  });

  it("formats floats as Go's float64 encoder does ('f' between 1e-6 and 1e21, 'e' outside)", () => {
    expect(goJsonMarshal(1.5)).toBe('1.5');
    expect(goJsonMarshal(-0.25)).toBe('-0.25');
    expect(goJsonMarshal(0.1)).toBe('0.1');
    expect(goJsonMarshal(0.000001)).toBe('0.000001');
    expect(goJsonMarshal(123456789.125)).toBe('123456789.125');
    expect(goJsonMarshal(1e20)).toBe('100000000000000000000');
    expect(goJsonMarshal(1e21)).toBe('1e+21');
    expect(goJsonMarshal(1.5e300)).toBe('1.5e+300');
    expect(goJsonMarshal(1e-7)).toBe('1e-7');
    expect(goJsonMarshal(-1.25e-7)).toBe('-1.25e-7');
    expect(goJsonMarshal(5e-324)).toBe('5e-324');
    expect(goJsonMarshal(1.7976931348623157e308)).toBe('1.7976931348623157e+308');
    // A float64 beyond int64 (what YAML integers past int64 become): shortest digits, then
    // zeros, as strconv's 'f' with precision -1 pads them.
    expect(goJsonMarshal(2 ** 63)).toBe('9223372036854776000');
  });

  it('refuses NaN and infinities with json.Marshal\'s "unsupported value"', () => {
    expect(() => formatGoFloat(Number.NaN)).toThrow('json: unsupported value: NaN');
    expect(() => goJsonMarshal({ a: Number.POSITIVE_INFINITY })).toThrow(
      'json: unsupported value: Infinity',
    );
  });
});

describe('goJsonEncode', () => {
  it('is the UTF-8 of the marshalled value plus one "\\n", like Encoder.Encode', () => {
    const bytes = goJsonEncode({ kind: 'Service', b: '<&>' });
    expect(new TextDecoder().decode(bytes)).toBe(
      '{"b":"\\u003c\\u0026\\u003e","kind":"Service"}\n',
    );
    expect(bytes).toEqual(utf8('{"b":"\\u003c\\u0026\\u003e","kind":"Service"}\n'));
  });
});
