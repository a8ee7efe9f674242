// Go encoding/json, byte for byte, for the values our YAML reader produces. The csv and bundle
// columns of the index are compared by sha256 with what operator-registry stored, so this
// must reproduce json.Encoder(…).Encode of a map[string]interface{} exactly:
// keys sorted by UTF-8 bytes; HTML characters < > & escaped as \u003c \u003e \u0026;
// U+2028/U+2029 escaped; control characters as \n \r \t or \u00XX (Go 1.19, before \b \f);
// invalid UTF-16 as U+FFFD; integers exact (BigInt for int64 beyond 2^53); floats in Go's
// 'f' / 'e' choice with the exponent cleaned ("1e-07" → "1e-7"); a trailing newline per value.
// The file-based catalog and the opm serve cache need two variants of the same encoder: Go
// structs (keys in declaration order, i.e. the object's insertion order) and an Encoder with
// SetEscapeHTML(false); RawJson embeds an already-compact value as it is (json.RawMessage).

const HEX = '0123456789abcdef';

export class GoJsonError extends Error {
  override name = 'GoJsonError';
}

/** Characters Go escapes or replaces; strings without any are written as they are. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what Go escapes.
const NEEDS_ESCAPE = /[\u0000-\u001f"\\<>&\u2028\u2029\ud800-\udfff]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: as above, without the HTML characters.
const NEEDS_ESCAPE_NO_HTML = /[\u0000-\u001f"\\\u2028\u2029\ud800-\udfff]/;

/** A value that is already compact JSON text, written as it is (Go's json.RawMessage). */
export class RawJson {
  constructor(readonly text: string) {}
}

export interface GoJsonOptions {
  /** Escape < > & as \u003c \u003e \u0026 (json.Marshal's default). */
  escapeHtml?: boolean;
  /** Sort object keys (a Go map); false keeps insertion order (a Go struct). */
  sortKeys?: boolean;
}

function encodeString(s: string, escapeHtml = true): string {
  if (!(escapeHtml ? NEEDS_ESCAPE : NEEDS_ESCAPE_NO_HTML).test(s)) return `"${s}"`;
  let buf = '"';
  let last = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let rep: string | undefined;
    const html = c === 0x3c || c === 0x3e || c === 0x26;
    if (c < 0x20 || c === 0x22 || c === 0x5c || (html && escapeHtml)) {
      switch (c) {
        case 0x22:
          rep = '\\"';
          break;
        case 0x5c:
          rep = '\\\\';
          break;
        case 0x0a:
          rep = '\\n';
          break;
        case 0x0d:
          rep = '\\r';
          break;
        case 0x09:
          rep = '\\t';
          break;
        default:
          rep = `\\u00${HEX[c >> 4]}${HEX[c & 0xf]}`;
      }
    } else if (c === 0x2028 || c === 0x2029) {
      rep = c === 0x2028 ? '\\u2028' : '\\u2029';
    } else if (c >= 0xd800 && c <= 0xdfff) {
      // A lone surrogate cannot be UTF-8: Go writes the replacement character.
      const isPair = c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
      if (isPair) {
        i++;
        continue;
      }
      rep = '\ufffd';
    }
    if (rep !== undefined) {
      buf += s.slice(last, i) + rep;
      last = i + 1;
    }
  }
  return `${buf}${s.slice(last)}"`;
}

/** Go's float64 formatting in encoding/json. */
export function formatGoFloat(f: number): string {
  if (!Number.isFinite(f)) throw new GoJsonError(`json: unsupported value: ${f}`);
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  const abs = Math.abs(f);
  if (abs < 1e-6 || abs >= 1e21) {
    // JavaScript's shortest exponent form is Go's after its clean-up ("1e-07" → "1e-7").
    return f.toExponential();
  }
  // Shortest round-trip digits in positional notation, as strconv 'f' with precision -1.
  return String(f);
}

export function compareUtf8(a: string, b: string): number {
  // Code-unit order equals UTF-8 byte order except between surrogates and U+E000–U+FFFF.
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      const sx = x >= 0xd800 && x <= 0xdfff;
      const sy = y >= 0xd800 && y <= 0xdfff;
      if (sx !== sy && (x >= 0xe000 || y >= 0xe000)) return sx ? 1 : -1;
      return x - y;
    }
  }
  return a.length - b.length;
}

const HIGH_CHAR = /[\ud800-\uffff]/;

/** Object keys in Go's order: the default sort is right unless a key has a surrogate pair. */
function sortedKeys(obj: object): string[] {
  const keys = Object.keys(obj).sort();
  // Key by key rather than over keys.join(''): a joined string per object was garbage.
  for (const key of keys) if (HIGH_CHAR.test(key)) return keys.sort(compareUtf8);
  return keys;
}

function encodeValue(value: unknown, html = true, sort = true): string {
  switch (typeof value) {
    case 'string':
      return encodeString(value, html);
    case 'number':
      return Number.isInteger(value) && Math.abs(value) < 1e21
        ? String(value)
        : formatGoFloat(value);
    case 'bigint':
      return value.toString();
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
      return 'null';
    case 'object': {
      if (value === null) return 'null';
      if (value instanceof RawJson) return value.text;
      if (value instanceof Map) {
        // A Go map with keys that are not all strings' insertion order in JS (e.g. "1").
        const keys = [...value.keys()] as string[];
        let out = '{';
        for (const key of sort ? keys.sort(compareUtf8) : keys)
          out += `${out.length > 1 ? ',' : ''}${encodeString(key, html)}:${encodeValue(value.get(key), html, sort)}`;
        return `${out}}`;
      }
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++)
          out += (i > 0 ? ',' : '') + encodeValue(value[i], html, sort);
        return `${out}]`;
      }
      const obj = value as Record<string, unknown>;
      let out = '{';
      let first = true;
      for (const key of sort ? sortedKeys(obj) : Object.keys(obj)) {
        out += `${first ? '' : ','}${encodeString(key, html)}:${encodeValue(obj[key], html, sort)}`;
        first = false;
      }
      return `${out}}`;
    }
    default:
      throw new GoJsonError(`json: unsupported type: ${typeof value}`);
  }
}

/** json.Marshal(value) as a string (no trailing newline); options as GoJsonOptions says. */
export function goJsonMarshal(value: unknown, options: GoJsonOptions = {}): string {
  return encodeValue(value, options.escapeHtml ?? true, options.sortKeys ?? true);
}

const encoder = new TextEncoder();
/** Objects are shared by the bundles of a flat folder: each is encoded once. */
const encoded = new WeakMap<object, Uint8Array>();

/** json.NewEncoder(w).Encode(value): the marshalled bytes plus "\n", as UTF-8. */
export function goJsonEncode(value: unknown): Uint8Array {
  const cacheable = typeof value === 'object' && value !== null;
  const hit = cacheable ? encoded.get(value) : undefined;
  if (hit) return hit;
  const bytes = encoder.encode(`${encodeValue(value)}\n`);
  if (cacheable) encoded.set(value, bytes);
  return bytes;
}
