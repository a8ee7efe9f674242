// Reads the first YAML/JSON document of a manifest the way operator-registry v1.8.0 did
// (k8s.io/apimachinery's YAMLOrJSONDecoder over sigs.k8s.io/yaml and go-yaml v2), because
// which files count as bundle objects, and the exact bytes stored for them, depend on it:
// - only the first document is read (a broken later document does not matter), split on
//   lines that are "---" plus white space, skipping empty leading chunks;
// - YAML 1.1 booleans (yes/no/on/off/y/n) as go-yaml v2 resolves them, timestamps stay
//   strings, duplicate keys take the last value, non-string keys become strings;
// - integers stay exact: beyond 2^53 they are BigInt (int64 in Go), beyond int64 a float.
// Manifests are untrusted, so every decode is bounded (DocumentLimits): the text's size, the
// size the document reaches once aliases are expanded (js-yaml shares aliased nodes, but
// every serialiser downstream copies them: a 693-byte "billion laughs" would become 4 GB),
// nesting depth and string length. Going over one is a DocumentLimitError, never a crash.
import yaml from 'js-yaml';
import { CatalogError } from '../errors.js';

/** A manifest over one of the decoding limits (size, alias expansion, depth, string length). */
export class DocumentLimitError extends CatalogError {
  override name = 'DocumentLimitError';
}

export interface DocumentLimits {
  /** Bytes of one document's text. */
  maxDocumentBytes: number;
  /** Bytes the value reaches with every alias expanded (strings, keys, one per node). */
  maxExpandedBytes: number;
  /** Nesting depth of mappings and sequences. */
  maxDepth: number;
  /** Characters of one string (key or value). */
  maxStringBytes: number;
}

/**
 * A Kubernetes object cannot exceed etcd's ~1.5 MiB request limit and the largest real CSV
 * is about 1 MiB with a depth under 30, so these leave wide headroom while keeping one
 * document's worst case (and the JSON/YAML copies made of it) far below the heap limit.
 * The byte caps match decode.ts' per-file cap, so a file that passes one passes the other.
 */
export const DEFAULT_DOCUMENT_LIMITS: Readonly<DocumentLimits> = Object.freeze({
  maxDocumentBytes: 64 * 1024 * 1024,
  maxExpandedBytes: 64 * 1024 * 1024,
  // js-yaml's own parse limit (its `maxDepth` default) is the same 100.
  maxDepth: 100,
  maxStringBytes: 16 * 1024 * 1024,
});

/**
 * Checks a decoded value against the limits without expanding it: each shared (aliased)
 * node's size and height are computed once and reused, so a bomb costs as little to check
 * as its text did to parse. Throws DocumentLimitError; also refuses recursive aliases.
 */
export function checkDocumentLimits(
  value: unknown,
  limits: DocumentLimits = DEFAULT_DOCUMENT_LIMITS,
): void {
  const sizes = new Map<object, { bytes: number; height: number }>();
  const active = new Set<object>();
  const over = (what: string): never => {
    throw new DocumentLimitError(what);
  };
  const tooDeep = () => over(`nesting is deeper than ${limits.maxDepth} levels`);
  const checkString = (s: string) => {
    if (s.length > limits.maxStringBytes)
      over(`a string of ${s.length} characters is over the ${limits.maxStringBytes} limit`);
  };
  // The height of the value measure() returned last; kept out of its result so that the
  // scalars, most of a document, cost no allocation.
  let height = 0;
  const measure = (v: unknown, depth: number): number => {
    if (typeof v === 'string') {
      checkString(v);
      height = 0;
      return v.length + 1;
    }
    if (typeof v !== 'object' || v === null) {
      height = 0;
      return 8;
    }
    if (depth > limits.maxDepth) tooDeep();
    const known = sizes.get(v);
    if (known) {
      if (depth + known.height > limits.maxDepth) tooDeep();
      height = known.height;
      return known.bytes;
    }
    if (active.has(v)) over('an alias refers to a node that contains it (recursive alias)');
    active.add(v);
    let bytes = 1;
    let own = 0;
    const add = (childBytes: number) => {
      bytes += childBytes;
      if (height + 1 > own) own = height + 1;
      if (bytes > limits.maxExpandedBytes)
        over(
          `the document expands to more than ${limits.maxExpandedBytes} bytes (YAML aliases: a "billion laughs"?)`,
        );
    };
    if (Array.isArray(v)) for (const item of v) add(measure(item, depth + 1));
    else {
      const obj = v as Record<string, unknown>;
      for (const k of Object.keys(obj)) {
        checkString(k);
        height = 0;
        add(k.length + 1);
        add(measure(obj[k], depth + 1));
      }
    }
    active.delete(v);
    sizes.set(v, { bytes, height: own });
    height = own;
    return bytes;
  };
  measure(value, 0);
}

/** js-yaml's `listener` option: called as each node opens and closes, with the parser state. */
export type YamlListener = (event: yaml.EventType, state: yaml.State) => void;

/** What js-yaml's state holds at each event besides what @types/js-yaml declares. */
interface NodeState {
  /** Nesting of the node being parsed (1 for the root). */
  depth?: unknown;
  /** The node's anchor (&name) at its close, else null. */
  anchor?: unknown;
}

/**
 * What a parse told its listener: whether it ran at all, whether any node had an anchor, and
 * how deep the parser nested. A state without those fields (another js-yaml) proves nothing.
 */
class ParseWatch {
  nodes = 0;
  anchored = false;
  unknown = false;
  maxDepth = 0;
  readonly listener: YamlListener = (event, state) => {
    const node = state as unknown as NodeState;
    if (event === 'open') {
      this.nodes++;
      if (typeof node.depth !== 'number') this.unknown = true;
      else if (node.depth > this.maxDepth) this.maxDepth = node.depth;
    } else if (node.anchor !== null) this.anchored = true;
  };

  /**
   * Whether the decoded value is within the limits without walking it. Only aliases make a
   * value bigger than its text: without an anchor no node is shared, so every string came from
   * the text (a key resolved from a scalar, "~" → "null", at most 4 times its characters), and
   * every node took at least one character of it, at most 16 bytes of expanded size each (a
   * null, 8, with its key); nesting adds at most two levels per parser level (a flow pair's
   * implicit mapping has no node of its own). So a document that parsed without anchors and
   * whose text is small enough for these bounds cannot be over a limit; any other document
   * (anchors, a large text, deep nesting, or a parse that did not call the listener) is walked.
   */
  provesWithin(text: string, limits: DocumentLimits): boolean {
    return (
      this.nodes > 0 &&
      !this.anchored &&
      !this.unknown &&
      2 * this.maxDepth <= limits.maxDepth &&
      4 * text.length + 32 <= limits.maxStringBytes &&
      16 * text.length + 64 <= limits.maxExpandedBytes
    );
  }
}

/**
 * Runs a js-yaml decode of `text` within the limits: the text's size first, then the
 * parse (a stack overflow on absurd nesting becomes the depth error), then the value. A parse
 * that passes the given listener to js-yaml lets a document without anchors skip the walk of
 * its value (ParseWatch.provesWithin: a fifth of the decoding time of a catalog's CSVs).
 */
export function withinLimits<T>(
  text: string,
  limits: DocumentLimits,
  parse: (text: string, listener: YamlListener) => T,
  values: (parsed: T) => unknown[] = (parsed) => [parsed],
): T {
  if (text.length > limits.maxDocumentBytes)
    throw new DocumentLimitError(
      `the document has ${text.length} characters, over the ${limits.maxDocumentBytes} limit`,
    );
  let parsed: T;
  const watch = new ParseWatch();
  try {
    parsed = parse(text, watch.listener);
  } catch (err) {
    if (err instanceof RangeError)
      throw new DocumentLimitError(`nesting is too deep to decode (${err.message})`, {
        cause: err,
      });
    // js-yaml's own guards (nesting depth, merge-key count) are limits too, not YAML errors.
    const message = err instanceof Error ? err.message : '';
    if (/exceeded max(?:Depth|TotalMergeKeys)/.test(message))
      throw new DocumentLimitError(message.split('\n')[0]!, { cause: err });
    throw err;
  }
  if (!watch.provesWithin(text, limits))
    for (const v of values(parsed)) checkDocumentLimits(v, limits);
  return parsed;
}

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

/**
 * A resolver's cheap first test: js-yaml asks each implicit type in turn about every plain
 * scalar (170,000 of them in the dev corpus, most of them words, names and sentences), so each
 * type first looks at the first character and the length, which every text it can accept
 * has: null is "~" or null/Null/NULL, a boolean one of the words above, an int or a float
 * (js-yaml 4's patterns: no leading "_") starts with a digit, a sign or "." (.5, .inf, .nan).
 * A tenth of the parse time.
 */
function firstCharIn(chars: string, maxLength: number): (data: string | null) => boolean {
  const allowed = new Uint8Array(128);
  for (const c of chars) allowed[c.charCodeAt(0)] = 1;
  return (data) => {
    if (data === null || data.length === 0 || data.length > maxLength) return false;
    const c = data.charCodeAt(0);
    return c < 128 && allowed[c] === 1;
  };
}
const mayBeNull = firstCharIn('~nN', 4);
const mayBeBool = firstCharIn('yYnNtTfFoO', 5);
const mayBeNumber = firstCharIn('0123456789+-.', Number.POSITIVE_INFINITY);

const goBool = new yaml.Type('tag:yaml.org,2002:bool', {
  kind: 'scalar',
  resolve: (data: string | null) =>
    mayBeBool(data) && (BOOL_TRUE.has(data!) || BOOL_FALSE.has(data!)),
  construct: (data: string) => BOOL_TRUE.has(data),
  predicate: (value: unknown) => typeof value === 'boolean',
  represent: { lowercase: (value: object) => (value ? 'true' : 'false') },
  defaultStyle: 'lowercase',
});

// js-yaml exports its built-in types at run time; @types/js-yaml does not declare them.
interface BuiltinType extends yaml.Type {
  tag: string;
  resolve(data: string | null): boolean;
  construct(data: string): unknown;
}
const builtin = (yaml as unknown as { types: Record<'null' | 'int' | 'float', BuiltinType> }).types;

/** A built-in scalar type whose resolver first asks `may` (firstCharIn). */
function screened(type: BuiltinType, may: (data: string | null) => boolean): yaml.Type {
  return new yaml.Type(type.tag, {
    kind: 'scalar',
    // js-yaml resolves an empty plain scalar (data null) as null; `may` says no to it.
    resolve: (data: string | null) => (data === null || may(data)) && type.resolve(data),
    construct: (data: string) => type.construct(data),
    ...(type.predicate ? { predicate: type.predicate } : {}),
    ...(type.represent ? { represent: type.represent } : {}),
    ...(type.defaultStyle ? { defaultStyle: type.defaultStyle } : {}),
  });
}

const coreInt = builtin.int;
const goInt = new yaml.Type('tag:yaml.org,2002:int', {
  kind: 'scalar',
  resolve: (data: string | null) => mayBeNumber(data) && coreInt.resolve(data),
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
  implicit: [
    screened(builtin.null, mayBeNull),
    goBool,
    goInt,
    screened(builtin.float, mayBeNumber),
  ],
});

export type DocumentResult =
  | { ok: true; value: unknown }
  | { ok: false; error: string /** Set when a DocumentLimit was hit. */; limit?: string };

const decoder = new TextDecoder('utf-8', { fatal: false });

/** The text of the first non-empty document, as k8s' YAMLReader splits a stream; null at EOF. */
export function firstDocumentText(text: string): string | null {
  let start = 0;
  let chunkStart = 0;
  while (start < text.length) {
    const nl = text.indexOf('\n', start);
    const end = nl === -1 ? text.length : nl + 1;
    // Only a line that starts with "---" is cut out and looked at: a string per line of every
    // manifest was garbage for the young generation to collect.
    if (text.startsWith('---', start) && text.slice(start + 3, end).trim() === '') {
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
export function decodeFirstDocument(
  data: Uint8Array,
  limits: DocumentLimits = DEFAULT_DOCUMENT_LIMITS,
): DocumentResult {
  if (data.length > limits.maxDocumentBytes)
    return {
      ok: false,
      error: `the file has ${data.length} bytes, over the ${limits.maxDocumentBytes}-byte document limit`,
      limit: 'DocumentLimitError',
    };
  let text = decoder.decode(data);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const trimmed = text.trimStart();
  const doc = trimmed.startsWith('{') ? firstJsonValueText(trimmed) : firstDocumentText(text);
  if (doc === null) return { ok: false, error: 'EOF' };
  try {
    // json: true makes duplicate keys take the last value, as go-yaml v2 and encoding/json do.
    const value = withinLimits(doc, limits, (t, listener) =>
      yaml.load(t, { schema: GO_YAML_SCHEMA, json: true, listener }),
    );
    return { ok: true, value };
  } catch (err) {
    if (err instanceof DocumentLimitError)
      return { ok: false, error: err.message, limit: err.name };
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
