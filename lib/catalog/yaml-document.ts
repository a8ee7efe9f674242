// Reads the first YAML/JSON document of a manifest the way operator-registry v1.8.0 did
// (k8s.io/apimachinery's YAMLOrJSONDecoder over sigs.k8s.io/yaml and go-yaml v2), because
// which files count as bundle objects, and the exact bytes stored for them, depend on it:
// - only the first document is read (a broken later document does not matter), split on
//   lines that are "---" plus white space, skipping empty leading chunks;
// - YAML 1.1 booleans (yes/no/on/off/y/n) as go-yaml v2 resolves them, timestamps stay
//   strings, duplicate keys take the last value, non-string keys become strings;
// - integers stay exact: beyond 2^53 they are BigInt (int64 in Go), beyond int64 a float.
import yaml from 'js-yaml';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

const BOOL_TRUE = new Set([
  'y',
  'Y',
  'yes',
  'Yes',
  'YES',
  'true',
  'True',
  'TRUE',
  'on',
  'On',
  'ON',
]);
const BOOL_FALSE = new Set([
  'n',
  'N',
  'no',
  'No',
  'NO',
  'false',
  'False',
  'FALSE',
  'off',
  'Off',
  'OFF',
]);

const goBool = new yaml.Type('tag:yaml.org,2002:bool', {
  kind: 'scalar',
  resolve: (data: string | null) => data !== null && (BOOL_TRUE.has(data) || BOOL_FALSE.has(data)),
  construct: (data: string) => BOOL_TRUE.has(data),
  predicate: (value: unknown) => typeof value === 'boolean',
  represent: { lowercase: (value: object) => (value ? 'true' : 'false') },
  defaultStyle: 'lowercase',
});

// js-yaml exports its built-in types at run time; @types/js-yaml does not declare them.
interface BuiltinType extends yaml.Type {
  resolve(data: string | null): boolean;
  construct(data: string): unknown;
}
const builtin = (yaml as unknown as { types: Record<'null' | 'int' | 'float', BuiltinType> }).types;
const coreInt = builtin.int;
const goInt = new yaml.Type('tag:yaml.org,2002:int', {
  kind: 'scalar',
  resolve: (data: string | null) => coreInt.resolve(data),
  construct: (data: string) => {
    const value = coreInt.construct(data) as number;
    if (Number.isSafeInteger(value)) return value;
    let text = data.replace(/_/g, '');
    let negative = false;
    if (text.startsWith('-') || text.startsWith('+')) {
      negative = text.startsWith('-');
      text = text.slice(1);
    }
    let big: bigint;
    try {
      big = BigInt(text);
    } catch {
      return value;
    }
    if (negative) big = -big;
    // Beyond int64 Go decodes the number as a float64.
    return big < INT64_MIN || big > INT64_MAX ? Number(big) : big;
  },
  predicate: (value: unknown) =>
    typeof value === 'bigint' || (typeof value === 'number' && Number.isInteger(value)),
  represent: { decimal: (value: object) => String(value) },
  defaultStyle: 'decimal',
});

/** go-yaml v2's resolution: null, YAML 1.1 booleans, exact ints, floats; everything else a string. */
export const GO_YAML_SCHEMA = yaml.FAILSAFE_SCHEMA.extend({
  implicit: [builtin.null, goBool, goInt, builtin.float],
});

export type DocumentResult = { ok: true; value: unknown } | { ok: false; error: string };

const decoder = new TextDecoder('utf-8', { fatal: false });

/** The text of the first non-empty document, as k8s' YAMLReader splits a stream; null at EOF. */
export function firstDocumentText(text: string): string | null {
  let start = 0;
  let chunkStart = 0;
  while (start < text.length) {
    const nl = text.indexOf('\n', start);
    const end = nl === -1 ? text.length : nl + 1;
    const line = text.slice(start, end);
    if (line.startsWith('---') && line.slice(3).trim() === '') {
      if (start > chunkStart) return text.slice(chunkStart, start);
      chunkStart = end;
    }
    start = end;
  }
  return text.length > chunkStart ? text.slice(chunkStart) : null;
}

/**
 * The text of the first JSON value of a stream that starts with '{' (encoding/json's Decoder
 * reads one value and ignores what follows), or the whole text when the value never closes.
 */
export function firstJsonValueText(text: string): string {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return text.slice(0, i + 1);
    }
  }
  return text;
}

/** Decodes the first document of a manifest file (YAML, or JSON when it starts with '{'). */
export function decodeFirstDocument(data: Uint8Array): DocumentResult {
  let text = decoder.decode(data);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const trimmed = text.trimStart();
  const doc = trimmed.startsWith('{') ? firstJsonValueText(trimmed) : firstDocumentText(text);
  if (doc === null) return { ok: false, error: 'EOF' };
  try {
    // json: true makes duplicate keys take the last value, as go-yaml v2 and encoding/json do.
    return { ok: true, value: yaml.load(doc, { schema: GO_YAML_SCHEMA, json: true }) };
  } catch (err) {
    return { ok: false, error: (err as Error).message.split('\n')[0] ?? String(err) };
  }
}

export type JsonObject = { [key: string]: unknown };

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * An object as k8s' Unstructured accepts it: a mapping whose `kind` is a non-empty string.
 * Anything else ("Object 'Kind' is missing") is not a Kubernetes object and is skipped.
 */
export function asKubernetesObject(result: DocumentResult): JsonObject | undefined {
  if (!result.ok || !isObject(result.value)) return undefined;
  const kind = result.value.kind;
  return typeof kind === 'string' && kind.length > 0 ? result.value : undefined;
}
