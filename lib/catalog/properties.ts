// The property and dependency rows operator-registry v1.26.5 stores for a bundle, as text:
// olm.gvk / olm.package values are Go json.Marshal of its structs (keys in struct order, not
// sorted; `<>&` escaped), and the `olm.properties` CSV annotation is decoded as Go decodes it
// into []registry.Property (json.RawMessage values, case-insensitive keys, the known types
// checked against their structs) and each value re-marshalled: compacted, its own key order
// kept, `<>&` and U+2028/U+2029 escaped. Kept apart from the loader so that the exact text of
// a stored value is decided in one place, for the SQLite and the FBC writers alike.
import { goJsonMarshal } from '../index/go-json.js';
import type { ApiKey, Property } from './model.js';

export const GVK_TYPE = 'olm.gvk';
export const PACKAGE_TYPE = 'olm.package';
export const LABEL_TYPE = 'olm.label';
/** The CSV annotation holding extra properties, a JSON array of {type, value}. */
export const PROPERTIES_ANNOTATION = 'olm.properties';

export class PropertyError extends Error {
  override name = 'PropertyError';
}

/** registry.GVKProperty / GVKDependency: {"group","kind","version"}. */
export function gvkProperty(k: Pick<ApiKey, 'group' | 'version' | 'kind'>): Property {
  return {
    type: GVK_TYPE,
    value: `{"group":${goJsonMarshal(k.group)},"kind":${goJsonMarshal(k.kind)},"version":${goJsonMarshal(k.version)}}`,
  };
}

/** registry.PackageProperty: {"packageName","version"}. */
export function packageProperty(packageName: string, version: string): Property {
  return {
    type: PACKAGE_TYPE,
    value: `{"packageName":${goJsonMarshal(packageName)},"version":${goJsonMarshal(version)}}`,
  };
}

/** Distinct rows by (type, value), first occurrence kept (upstream used a Go map as a set). */
export function distinctProperties(rows: Property[]): Property[] {
  const seen = new Map<string, Property>();
  for (const p of rows) {
    const key = `${p.type}\u0000${p.value}`;
    if (!seen.has(key)) seen.set(key, p);
  }
  return [...seen.values()];
}

// ---------------------------------------------------------------- a JSON reader with spans

/** A parsed JSON value with where its text starts and ends in the source. */
type Node =
  | { kind: 'object'; start: number; end: number; members: [key: string, value: Node][] }
  | { kind: 'array'; start: number; end: number; items: Node[] }
  | { kind: 'string'; start: number; end: number; value: string }
  | { kind: 'number' | 'bool' | 'null'; start: number; end: number };

function quoteChar(c: string): string {
  if (c === "'") return `'\\''`;
  if (c === '"') return `'"'`;
  const code = c.charCodeAt(0);
  if (code < 0x20) return `'\\x${code.toString(16).padStart(2, '0')}'`;
  return `'${c}'`;
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** Parses JSON text as encoding/json's scanner accepts it; errors read as Go's. */
class SpanParser {
  private i = 0;
  constructor(private readonly text: string) {}

  private fail(context: string): never {
    if (this.i >= this.text.length) throw new PropertyError('unexpected end of JSON input');
    throw new PropertyError(`invalid character ${quoteChar(this.text[this.i]!)} ${context}`);
  }

  private skipSpace(): void {
    while (this.i < this.text.length && ' \t\n\r'.includes(this.text[this.i]!)) this.i++;
  }

  document(): Node {
    const node = this.value();
    this.skipSpace();
    if (this.i < this.text.length) this.fail('after top-level value');
    return node;
  }

  private value(): Node {
    this.skipSpace();
    const start = this.i;
    const c = this.text[this.i];
    if (c === '{') return this.object(start);
    if (c === '[') return this.array(start);
    if (c === '"') return { kind: 'string', start, value: this.string(), end: this.i };
    for (const [word, kind] of [
      ['true', 'bool'],
      ['false', 'bool'],
      ['null', 'null'],
    ] as const) {
      if (c === word[0]) {
        for (let k = 0; k < word.length; k++, this.i++) {
          if (this.text[this.i] !== word[k])
            this.fail(`in literal ${word} (expecting '${word[k]}')`);
        }
        return { kind, start, end: this.i };
      }
    }
    NUMBER.lastIndex = this.i;
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
      const m = NUMBER.exec(this.text);
      if (!m) {
        this.i++;
        this.fail('in numeric literal');
      }
      this.i += m[0].length;
      return { kind: 'number', start, end: this.i };
    }
    this.fail('looking for beginning of value');
  }

  private string(): string {
    const open = this.i++;
    for (;;) {
      const c = this.text[this.i];
      if (c === undefined) this.fail('in string literal');
      if (c === '"') break;
      if (c.charCodeAt(0) < 0x20) this.fail('in string literal');
      if (c === '\\') {
        this.i++;
        const e = this.text[this.i];
        if (e === 'u') {
          for (let k = 1; k <= 4; k++) {
            this.i++;
            if (!/[0-9a-fA-F]/.test(this.text[this.i] ?? ''))
              this.fail('in \\u hexadecimal character escape');
          }
        } else if (e === undefined || !'"\\/bfnrt'.includes(e)) this.fail('in string escape code');
      }
      this.i++;
    }
    this.i++;
    return JSON.parse(this.text.slice(open, this.i)) as string;
  }

  private object(start: number): Node {
    this.i++;
    const members: [string, Node][] = [];
    this.skipSpace();
    if (this.text[this.i] === '}') {
      this.i++;
      return { kind: 'object', start, end: this.i, members };
    }
    for (;;) {
      this.skipSpace();
      if (this.text[this.i] !== '"') this.fail('looking for beginning of object key string');
      const key = this.string();
      this.skipSpace();
      if (this.text[this.i] !== ':') this.fail('after object key');
      this.i++;
      members.push([key, this.value()]);
      this.skipSpace();
      if (this.text[this.i] === ',') {
        this.i++;
        continue;
      }
      if (this.text[this.i] === '}') {
        this.i++;
        return { kind: 'object', start, end: this.i, members };
      }
      this.fail('after object key:value pair');
    }
  }

  private array(start: number): Node {
    this.i++;
    const items: Node[] = [];
    this.skipSpace();
    if (this.text[this.i] === ']') {
      this.i++;
      return { kind: 'array', start, end: this.i, items };
    }
    for (;;) {
      items.push(this.value());
      this.skipSpace();
      if (this.text[this.i] === ',') {
        this.i++;
        continue;
      }
      if (this.text[this.i] === ']') {
        this.i++;
        return { kind: 'array', start, end: this.i, items };
      }
      this.fail('after array element');
    }
  }
}

/**
 * json.Marshal of a json.RawMessage: insignificant white space removed, `<`, `>`, `&`,
 * U+2028 and U+2029 escaped, everything else (key order, other escapes) byte for byte.
 */
export function compactJson(raw: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === '<' || c === '>' || c === '&') {
      out += `\\u00${c.charCodeAt(0).toString(16)}`;
      continue;
    }
    if (c === '\u2028' || c === '\u2029') {
      out += c === '\u2028' ? '\\u2028' : '\\u2029';
      continue;
    }
    if (inString) {
      out += c;
      if (c === '\\') out += raw[++i] ?? '';
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (' \t\n\r'.includes(c)) continue;
    out += c;
  }
  return out;
}

function jsonKind(node: Node): string {
  return node.kind === 'bool' ? 'bool' : node.kind;
}

/** encoding/json matches a struct field by exact name, else case-insensitively; the last wins. */
function fieldOf(node: Node & { kind: 'object' }, field: string): Node | undefined {
  let found: Node | undefined;
  for (const [k, v] of node.members) if (k.toLowerCase() === field.toLowerCase()) found = v;
  return found;
}

/** Unmarshals a raw value into a Go struct of string fields; throws Go's type errors. */
function checkStringStruct(raw: string, struct: string, fields: string[]): void {
  if (raw === '') throw new PropertyError('unexpected end of JSON input');
  const node = new SpanParser(raw).document();
  if (node.kind === 'null') return;
  if (node.kind !== 'object')
    throw new PropertyError(
      `json: cannot unmarshal ${jsonKind(node)} into Go value of type registry.${struct}`,
    );
  for (const f of fields) {
    const v = fieldOf(node, f);
    if (v && v.kind !== 'string' && v.kind !== 'null')
      throw new PropertyError(
        `json: cannot unmarshal ${jsonKind(v)} into Go struct field ${struct}.${f} of type string`,
      );
  }
}

const KNOWN_TYPES: Record<string, [struct: string, fields: string[]]> = {
  [LABEL_TYPE]: ['LabelProperty', ['label']],
  [PACKAGE_TYPE]: ['PackageProperty', ['packageName', 'version']],
  [GVK_TYPE]: ['GVKProperty', ['group', 'kind', 'version']],
};

/**
 * The rows of an `olm.properties` annotation: one per element, value re-marshalled. Throws
 * (failing the bundle, as upstream) on invalid JSON, a wrong shape, or an olm.label /
 * olm.package / olm.gvk value that does not fit its struct.
 */
export function annotationProperties(annotation: string): Property[] {
  const doc = new SpanParser(annotation).document();
  if (doc.kind === 'null') return [];
  if (doc.kind !== 'array')
    throw new PropertyError(
      `json: cannot unmarshal ${jsonKind(doc)} into Go value of type []registry.Property`,
    );
  const rows: Property[] = [];
  for (const item of doc.items) {
    if (item.kind === 'null') {
      rows.push({ type: '', value: 'null' });
      continue;
    }
    if (item.kind !== 'object')
      throw new PropertyError(
        `json: cannot unmarshal ${jsonKind(item)} into Go value of type registry.Property`,
      );
    const typeNode = fieldOf(item, 'type');
    if (typeNode && typeNode.kind !== 'string' && typeNode.kind !== 'null')
      throw new PropertyError(
        `json: cannot unmarshal ${jsonKind(typeNode)} into Go struct field Property.type of type string`,
      );
    const type = typeNode?.kind === 'string' ? typeNode.value : '';
    const valueNode = fieldOf(item, 'value');
    const raw = valueNode ? annotation.slice(valueNode.start, valueNode.end) : '';
    const known = KNOWN_TYPES[type];
    if (known) checkStringStruct(raw, known[0], known[1]);
    // A missing value is a nil RawMessage, which marshals as null.
    rows.push({ type, value: raw === '' ? 'null' : compactJson(raw) });
  }
  return rows;
}
