// The pieces of FBC encoding that must behave like Go, each on a case whose Go output is
// known: json.Indent with 4 spaces (empty containers stay compact, strings untouched),
// base64.StdEncoding's strictness, sort.Slice's tie order, and reading FBC text back.
import { describe, expect, it } from 'vitest';
import { decodeStdBase64 } from '../../../lib/index/fbc-from-catalog.js';
import { fbcDocument, goIndent } from '../../../lib/index/fbc-json.js';
import { readFbc, splitJsonStream } from '../../../lib/index/fbc-read.js';
import { goJsonMarshal, RawJson } from '../../../lib/index/go-json.js';
import { goSortSlice } from '../../../lib/index/go-sort.js';

describe('goIndent', () => {
  it('indents like json.Indent with four spaces', () => {
    expect(goIndent('{"a":[1,{"b":"x,y:[z]"}],"c":{},"d":[]}')).toBe(
      '{\n    "a": [\n        1,\n        {\n            "b": "x,y:[z]"\n        }\n    ],\n    "c": {},\n    "d": []\n}',
    );
  });
  it('keeps escapes inside strings', () => {
    expect(goIndent('["a\\"]b","\\u003c"]')).toBe('[\n    "a\\"]b",\n    "\\u003c"\n]');
  });
});

describe('fbcDocument', () => {
  it('keeps struct order, leaves < > & literal and raw values as they are', () => {
    const text = fbcDocument({
      schema: 'olm.bundle',
      name: 'b',
      skipRange: '>=1.0.0 <2.0.0 & more',
      properties: [{ type: 't', value: new RawJson('{"z":"\\u003c","a":1}') }],
    });
    expect(text).toBe(
      '{\n    "schema": "olm.bundle",\n    "name": "b",\n    "skipRange": ">=1.0.0 <2.0.0 & more",\n    "properties": [\n        {\n            "type": "t",\n            "value": {\n                "z": "\\u003c",\n                "a": 1\n            }\n        }\n    ]\n}\n',
    );
  });
  it('escapes < in json.Marshal mode only', () => {
    expect(goJsonMarshal({ v: '<' }, { sortKeys: false })).toBe('{"v":"\\u003c"}');
    expect(goJsonMarshal({ v: '<' }, { escapeHtml: false })).toBe('{"v":"<"}');
  });
});

describe('decodeStdBase64', () => {
  it('accepts padded base64 with line breaks', () => {
    expect(Buffer.from(decodeStdBase64('aGVs\nbG8=\r\n')!).toString()).toBe('hello');
  });
  it('rejects what Go rejects: missing padding, spaces, foreign characters', () => {
    expect(decodeStdBase64('aGVsbG8')).toBeUndefined();
    expect(decodeStdBase64('aGVs bG8=')).toBeUndefined();
    expect(decodeStdBase64('aGVs_G8=')).toBeUndefined();
    expect(decodeStdBase64('aGVsbG8==')).toBeUndefined();
  });
});

describe('goSortSlice', () => {
  it('sorts', () => {
    const xs = Array.from({ length: 100 }, (_, i) => (i * 37) % 101);
    expect(goSortSlice([...xs], (a, b) => a < b)).toEqual([...xs].sort((a, b) => a - b));
  });
  it('is Go 1.19 pdqsort: ties above 12 elements leave the order Go leaves', () => {
    // 13 items, keys 0..11 plus a duplicate of key 5 placed last: pdqsort's partition puts the
    // later duplicate first, where a stable sort would keep it second. (The corpus test ties
    // this port to go1.19's output: maistraoperator.v1.1.1's relatedImages has such a tie.)
    const items = [
      ...Array.from({ length: 12 }, (_, i) => ({ k: i, tag: 'a' })),
      { k: 5, tag: 'b' },
    ];
    const sorted = goSortSlice(items, (x, y) => x.k < y.k);
    expect(sorted.map((x) => x.k)).toEqual([0, 1, 2, 3, 4, 5, 5, 6, 7, 8, 9, 10, 11]);
    expect(sorted.filter((x) => x.k === 5).map((x) => x.tag)).toEqual(['b', 'a']);
  });
});

describe('readFbc', () => {
  it('splits a stream of objects and groups them by package', () => {
    const text = `${fbcDocument({ schema: 'olm.package', name: 'p', defaultChannel: 'c' })}${fbcDocument({ schema: 'olm.channel', name: 'c', package: 'p', entries: [{ name: 'b "}{"' }] })}`;
    expect(splitJsonStream(text)).toHaveLength(2);
    const cat = readFbc([text]);
    expect(cat.packages.map((p) => p.package.name)).toEqual(['p']);
    expect(cat.packages[0]!.channels[0]!.entries[0]!.name).toBe('b "}{"');
  });
});
