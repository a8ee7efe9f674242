// A bundle-format folder (`manifests/` plus `metadata/annotations.yaml`, optional
// `dependencies.yaml` and `properties.yaml`) read the way operator-registry v1.26.5's bundle
// parser reads it, whether it came from a directory or from a bundle image's layer. It is a
// module beside the package-manifest loader (load-bundles.ts keeps v1.8.0's walk) because the
// rules differ: only the direct files of manifests/ count, the first CSV wins, CRDs of any
// apiextensions group decode by version (v1 and v1beta1; others provide nothing), a missing
// owned CRD fails the bundle, and package/channels come from the annotations, not a manifest.
import { CatalogError } from '../errors.js';
import { goJsonMarshal } from '../index/go-json.js';
import {
  apiKeyId,
  FieldError,
  formatApiKey,
  metadataName,
  objectField,
  objectItems,
  ownedApiServiceKeys,
  ownedCrdKeys,
  requiredApiKeys,
  stringField,
} from './csv-fields.js';
import { compareBytes, type FileTree } from './file-tree.js';
import type { ApiKey } from './model.js';
import {
  asKubernetesObject,
  DocumentLimitError,
  decodeFirstDocument,
  firstDocumentText,
  isObject,
  type JsonObject,
} from './yaml-document.js';

export const PACKAGE_ANNOTATION = 'operators.operatorframework.io.bundle.package.v1';
export const CHANNELS_ANNOTATION = 'operators.operatorframework.io.bundle.channels.v1';
export const DEFAULT_CHANNEL_ANNOTATION =
  'operators.operatorframework.io.bundle.channel.default.v1';

/**
 * A file of a bundle over a decoding limit, as a DocumentLimitError whose message starts with
 * the file's path in the bundle (`manifests/x.yaml: …`); the bundle loader adds where the
 * bundle is and drops the folder with a named warning.
 */
function overLimit(path: string, cause: string): DocumentLimitError {
  return new DocumentLimitError(`${path}: ${cause}`);
}

/** A bundle folder or image that operator-registry would refuse: the bundle contributes nothing. */
export class BundleFormatError extends CatalogError {
  override name = 'BundleFormatError';
}

/** A property or dependency as a bundle declares it: `value` keeps upstream's raw JSON text. */
export interface RawProperty {
  type: string;
  /** The JSON text upstream holds (json.RawMessage): it orders properties of the same type. */
  raw: string;
  /** The decoded value (key order as in `raw`), undefined when the value was absent. */
  value: unknown;
}

export interface BundleAnnotations {
  packageName: string;
  channels: string[];
  defaultChannel: string;
}

/** One bundle as v1.26.5's registry.Bundle holds it after parsing. */
export interface FormatBundle {
  /** The CSV's metadata.name. */
  name: string;
  /** Objects of manifests/ in file-name order (the first CSV among them). */
  objects: JsonObject[];
  csv: JsonObject;
  annotations: BundleAnnotations;
  /** metadata/properties.yaml plus the derived ones (olm.package, CSV olm.properties, olm.gvk). */
  properties: RawProperty[];
  /** metadata/properties.yaml alone (also at the head of `properties`). */
  fileProperties: RawProperty[];
  /** metadata/dependencies.yaml. */
  dependencies: RawProperty[];
  provided: ApiKey[];
  required: ApiKey[];
  version: string;
  replaces: string;
  skips: string[];
  skipRange: string;
  /** Things upstream logs and goes on (undecodable files, extra documents). */
  warnings: string[];
}

const CSV_KIND = 'ClusterServiceVersion';
const CRD_KIND = 'CustomResourceDefinition';
const PROPERTIES_ANNOTATION = 'olm.properties';

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Files directly inside `dir` (not in sub-folders), in name order. */
function filesIn(files: FileTree, dir: string) {
  const prefix = `${dir}/`;
  return files
    .filter((f) => f.path.startsWith(prefix) && !f.path.slice(prefix.length).includes('/'))
    .map((f) => ({ name: f.path.slice(prefix.length), data: f.data }))
    .sort((a, b) => compareBytes(a.name, b.name));
}

/** True when a YAML stream holds a second non-empty document after the first (upstream warns). */
function hasExtraDocument(data: Uint8Array): boolean {
  const text = new TextDecoder().decode(data);
  const first = firstDocumentText(text);
  if (first === null) return false;
  const start = text.indexOf(first) + first.length;
  const rest = firstDocumentText(text.slice(start));
  return rest !== null && rest.trim() !== '' && !/^(\s*#.*\n?)*\s*$/.test(rest);
}

/** A string field as sigs.k8s.io/yaml fills a Go string: scalars keep their text. */
function goString(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean')
    return String(value);
  throw new FieldError(`cannot unmarshal ${Array.isArray(value) ? 'array' : 'object'} into string`);
}

/** Each item's value as sigs.k8s.io/yaml hands a json.RawMessage: Go's json.Marshal text. */
function propertyList(value: unknown): RawProperty[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const out: RawProperty[] = [];
  for (const item of value) {
    if (!isObject(item)) return undefined;
    const v = item.value;
    out.push({
      type: goString(item.type),
      raw: v === undefined ? 'null' : goJsonMarshal(v),
      value: v === undefined ? null : v,
    });
  }
  return out;
}

function readAnnotations(doc: unknown): BundleAnnotations | undefined {
  if (!isObject(doc) || !isObject(doc.annotations)) return undefined;
  const a = doc.annotations;
  const packageName = goString(a[PACKAGE_ANNOTATION]);
  const channels = goString(a[CHANNELS_ANNOTATION]);
  const defaultChannel = goString(a[DEFAULT_CHANNEL_ANNOTATION]);
  if (packageName === '' && channels === '' && defaultChannel === '') return undefined;
  return { packageName, channels: channels === '' ? [] : channels.split(','), defaultChannel };
}

interface Metadata {
  annotations?: BundleAnnotations;
  dependencies?: RawProperty[];
  properties?: RawProperty[];
}

/** addMetadata: every file of metadata/ is tried as each of the three files; the first fit wins. */
function readMetadata(files: FileTree): Metadata {
  const out: Metadata = {};
  for (const file of filesIn(files, 'metadata')) {
    const doc = decodeFirstDocument(file.data);
    if (!doc.ok && doc.limit) throw overLimit(`metadata/${file.name}`, doc.error);
    if (!doc.ok) continue;
    if (!out.annotations) {
      try {
        out.annotations = readAnnotations(doc.value);
      } catch {
        // a non-string annotation fails this decode only
      }
    }
    if (!out.dependencies && isObject(doc.value)) {
      try {
        const deps = propertyList(doc.value.dependencies);
        if (deps && deps.length > 0) out.dependencies = deps;
      } catch {
        // not a dependencies file
      }
    }
    if (!out.properties && isObject(doc.value)) {
      try {
        const props = propertyList(doc.value.properties);
        if (props && props.length > 0) out.properties = props;
      } catch {
        // not a properties file
      }
    }
  }
  return out;
}

/** The APIs a CRD provides in v1.26.5: decoded by the version of its apiVersion. */
export function crdApisV1265(crd: JsonObject): ApiKey[] {
  const apiVersion = typeof crd.apiVersion === 'string' ? crd.apiVersion : '';
  const version = apiVersion.includes('/')
    ? apiVersion.slice(apiVersion.indexOf('/') + 1)
    : apiVersion;
  if (version !== 'v1' && version !== 'v1beta1') return [];
  try {
    const spec = objectField(crd, 'spec', 'CustomResourceDefinition.spec');
    const group = stringField(spec, 'group', 'CustomResourceDefinitionSpec.group');
    const names = objectField(spec, 'names', 'CustomResourceDefinitionSpec.names');
    const kind = stringField(names, 'kind', 'CustomResourceDefinitionNames.kind');
    const plural = stringField(names, 'plural', 'CustomResourceDefinitionNames.plural');
    const keys: ApiKey[] = objectItems(
      spec,
      'versions',
      'CustomResourceDefinitionSpec.versions',
    ).map((v) => ({
      group,
      version: stringField(v, 'name', 'CustomResourceDefinitionVersion.name'),
      kind,
      plural,
    }));
    if (version === 'v1beta1') {
      const v = stringField(spec, 'version', 'CustomResourceDefinitionSpec.version');
      if (v !== '') keys.push({ group, version: v, kind, plural });
    }
    return keys;
  } catch (err) {
    throw new FieldError(`error decoding ${version} CRD: ${message(err)}`);
  }
}

function distinct(keys: ApiKey[]): ApiKey[] {
  const seen = new Map<string, ApiKey>();
  for (const k of keys) if (!seen.has(apiKeyId(k))) seen.set(apiKeyId(k), k);
  return [...seen.values()];
}

function csvAnnotationProperties(csv: JsonObject, warnings: string[]): RawProperty[] {
  const meta = isObject(csv.metadata) ? csv.metadata : undefined;
  const annotations = meta && isObject(meta.annotations) ? meta.annotations : undefined;
  const text = annotations?.[PROPERTIES_ANNOTATION];
  if (typeof text !== 'string') return [];
  try {
    const parsed = JSON.parse(text) as unknown;
    if (!Array.isArray(parsed)) throw new Error('not a list of properties');
    const raws = rawArrayValues(text);
    return parsed.map((p, i) => {
      if (!isObject(p)) throw new Error('a property is not an object');
      return {
        type: goString(p.type),
        raw: raws[i] ?? 'null',
        value: p.value === undefined ? null : p.value,
      };
    });
  } catch (err) {
    warnings.push(`failed to unmarshal csv annotation properties: ${message(err)}`);
    return [];
  }
}

/** The raw text of each element's "value" member in a JSON array of objects (json.RawMessage). */
function rawArrayValues(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\r\n'.includes(text[i]!)) i++;
  };
  const skipValue = (): void => {
    ws();
    const c = text[i];
    if (c === '"') {
      i++;
      while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      i++;
    } else if (c === '{' || c === '[') {
      let depth = 0;
      let inString = false;
      for (; i < text.length; i++) {
        const d = text[i];
        if (inString) {
          if (d === '\\') i++;
          else if (d === '"') inString = false;
        } else if (d === '"') inString = true;
        else if (d === '{' || d === '[') depth++;
        else if (d === '}' || d === ']') {
          depth--;
          if (depth === 0) {
            i++;
            return;
          }
        }
      }
    } else {
      while (i < text.length && !',}] \t\r\n'.includes(text[i]!)) i++;
    }
  };
  ws();
  i++; // [
  for (;;) {
    ws();
    if (text[i] !== '{') break;
    i++;
    let value = 'null';
    for (;;) {
      ws();
      if (text[i] === '}') {
        i++;
        break;
      }
      const keyStart = i;
      skipValue();
      const key = JSON.parse(text.slice(keyStart, i)) as string;
      ws();
      i++; // :
      ws();
      const start = i;
      skipValue();
      if (key.toLowerCase() === 'value') value = text.slice(start, i);
      ws();
      if (text[i] === ',') i++;
    }
    out.push(value);
    ws();
    if (text[i] === ',') i++;
  }
  return out;
}

/** propertySet: the first of equal (type, raw value) pairs is kept. */
function propertySet(props: RawProperty[]): RawProperty[] {
  const seen = new Set<string>();
  return props.filter((p) => {
    const key = `${p.type}\u0000${p.raw}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Parses one bundle. `files` holds paths relative to the bundle root (`manifests/…`,
 * `metadata/…`); `where` names the bundle in messages (its folder or image reference).
 */
export function parseBundleFormat(files: FileTree, where: string): FormatBundle {
  const warnings: string[] = [];
  const objects: JsonObject[] = [];
  let csv: JsonObject | undefined;
  for (const file of filesIn(files, 'manifests')) {
    if (file.name.startsWith('.')) continue;
    const doc = decodeFirstDocument(file.data);
    // Over a decoding limit is not "undecodable" (a warning upstream, the file skipped): the
    // folder is hostile or broken, and a bundle missing a file would load wrongly.
    if (!doc.ok && doc.limit) throw overLimit(`manifests/${file.name}`, doc.error);
    const obj = asKubernetesObject(doc);
    if (!obj) {
      const cause = doc.ok ? "Object 'Kind' is missing" : doc.error;
      warnings.push(`failed to decode: manifests/${file.name}: ${cause}`);
      continue;
    }
    if (hasExtraDocument(file.data))
      warnings.push(
        `found more than one document inside manifests/${file.name}, using only the first one`,
      );
    if (obj.kind === CSV_KIND) {
      if (csv) continue;
      csv = obj;
    }
    objects.push(obj);
  }
  const fail = (cause: string) => new BundleFormatError(`reading bundle ${where}: ${cause}`);
  if (objects.length === 0) throw fail('no bundle objects found');
  if (!csv) throw fail('no csv in bundle');
  const name = metadataName(csv);

  let provided: ApiKey[];
  let required: ApiKey[];
  let graph: { version: string; replaces: string; skips: string[]; skipRange: string };
  try {
    const crdKeys: ApiKey[] = [];
    for (const o of objects) if (o.kind === CRD_KIND) crdKeys.push(...crdApisV1265(o));
    provided = distinct([...crdKeys, ...ownedApiServiceKeys(csv)]);
    required = distinct(requiredApiKeys(csv));
    const have = new Set(provided.map(apiKeyId));
    for (const owned of distinct(ownedCrdKeys(csv))) {
      if (!have.has(apiKeyId(owned))) {
        const found = provided
          .map((k) => `${formatApiKey(k)}:{}`)
          .sort()
          .join(' ');
        throw new FieldError(
          `error checking provided apis in bundle ${name}: couldn't find ${formatApiKey(owned)} in bundle. found: map[${found}]`,
        );
      }
    }
    graph = csvGraph(csv);
  } catch (err) {
    throw fail(message(err));
  }

  const metadata = readMetadata(files);
  if (!metadata.annotations) throw fail('Could not find annotations file');
  const annotations = metadata.annotations;

  const derived: RawProperty[] = csvAnnotationProperties(csv, warnings);
  if (annotations.packageName !== '') {
    const value = { packageName: annotations.packageName, version: graph.version };
    derived.unshift({ type: 'olm.package', raw: goJsonMarshal(value), value });
  }
  for (const k of provided) {
    const value = { group: k.group, kind: k.kind, version: k.version };
    derived.push({ type: 'olm.gvk', raw: goJsonMarshal(value), value });
  }
  const properties = propertySet([...(metadata.properties ?? []), ...propertySet(derived)]);
  return {
    name,
    objects,
    csv,
    annotations,
    properties,
    fileProperties: metadata.properties ?? [],
    dependencies: metadata.dependencies ?? [],
    provided,
    required,
    ...graph,
    warnings,
  };
}

function csvGraph(csv: JsonObject) {
  const spec = objectField(csv, 'spec', 'ClusterServiceVersion.spec');
  const meta = objectField(csv, 'metadata', 'ClusterServiceVersion.metadata');
  const annotations = objectField(meta, 'annotations', 'ObjectMeta.annotations');
  const skips = spec?.skips;
  return {
    version: goString(spec?.version),
    replaces: stringField(spec, 'replaces', '.replaces'),
    skips: Array.isArray(skips) ? skips.map((s) => goString(s)) : [],
    skipRange: stringField(annotations, 'olm.skipRange', 'ObjectMeta.annotations'),
  };
}
