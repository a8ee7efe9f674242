// What operator-registry reads from a ClusterServiceVersion and from CRDs, with the same
// type strictness as its Go structs: a field of the wrong type is an error that stops the
// bundle (as a failed json.Unmarshal did), a missing field is its zero value.
import type { ApiKey, LoaderRules } from './model.js';
import { isObject, type JsonObject } from './yaml-document.js';

export class FieldError extends Error {
  override name = 'FieldError';
}

function goType(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'bigint') return 'number';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'object' : typeof value;
}

function mismatch(value: unknown, field: string, want: string): FieldError {
  return new FieldError(
    `json: cannot unmarshal ${goType(value)} into Go struct field ${field} of type ${want}`,
  );
}

/** A string field: '' when absent or null, an error for any other type. */
export function stringField(obj: JsonObject | undefined, key: string, field: string): string {
  const v = obj?.[key];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw mismatch(v, field, 'string');
  return v;
}

/** An object field: undefined when absent or null, an error for any other type. */
export function objectField(
  obj: JsonObject | undefined,
  key: string,
  field: string,
): JsonObject | undefined {
  const v = obj?.[key];
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw mismatch(v, field, 'object');
  return v;
}

/** An array field: [] when absent or null, an error for any other type. */
export function arrayField(obj: JsonObject | undefined, key: string, field: string): unknown[] {
  const v = obj?.[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw mismatch(v, field, '[]');
  return v;
}

/** Elements of an array field that must be objects (null elements are zero values). */
export function objectItems(obj: JsonObject | undefined, key: string, field: string): JsonObject[] {
  return arrayField(obj, key, field).map((item) => {
    if (item === null) return {};
    if (!isObject(item)) throw mismatch(item, field, 'struct');
    return item;
  });
}

export function stringItems(obj: JsonObject | undefined, key: string, field: string): string[] {
  return arrayField(obj, key, field).map((item) => {
    if (item === null) return '';
    if (typeof item !== 'string') throw mismatch(item, field, 'string');
    return item;
  });
}

export function metadataName(obj: JsonObject): string {
  const meta = obj.metadata;
  return isObject(meta) && typeof meta.name === 'string' ? meta.name : '';
}

function csvAnnotations(csv: JsonObject): JsonObject | undefined {
  const meta = objectField(csv, 'metadata', 'ClusterServiceVersion.metadata');
  return objectField(meta, 'annotations', 'ObjectMeta.annotations');
}

/** A CSV annotation's value, '' when absent (annotations are map[string]string). */
export function csvAnnotation(csv: JsonObject, key: string): string {
  return stringField(csvAnnotations(csv), key, 'ObjectMeta.annotations');
}

/** Whether the CSV has the annotation at all (an empty value counts). */
export function hasCsvAnnotation(csv: JsonObject, key: string): boolean {
  const annotations = csvAnnotations(csv);
  return annotations !== undefined && Object.hasOwn(annotations, key);
}

/** spec.version, spec.replaces, spec.skips and the olm.skipRange annotation. */
export function csvGraphFields(csv: JsonObject) {
  const spec = objectField(csv, 'spec', 'ClusterServiceVersion.spec');
  const annotations = csvAnnotations(csv);
  return {
    version: stringField(spec, 'version', '.version'),
    replaces: stringField(spec, 'replaces', '.replaces'),
    skips: stringItems(spec, 'skips', '.skips'),
    skipRange: stringField(annotations, 'olm.skipRange', 'ObjectMeta.annotations'),
  };
}

/**
 * Images the bundle needs: spec.relatedImages[].image, and, for the "deployment" install
 * strategy, every container and init container image of every deployment. A listed entry
 * without an image still counts, as Go's zero value '' (upstream stores that row too).
 */
export function csvImages(csv: JsonObject): string[] {
  const spec = objectField(csv, 'spec', 'ClusterServiceVersion.spec');
  const images = new Set<string>();
  const install = objectField(spec, 'install', '.install');
  if (
    install &&
    stringField(install, 'strategy', 'NamedInstallStrategy.strategy') === 'deployment'
  ) {
    const details = objectField(install, 'spec', 'NamedInstallStrategy.spec');
    for (const deployment of objectItems(
      details,
      'deployments',
      'StrategyDetailsDeployment.deployments',
    )) {
      const podSpec = objectField(
        objectField(
          objectField(deployment, 'spec', 'StrategyDeploymentSpec.spec'),
          'template',
          'DeploymentSpec.template',
        ),
        'spec',
        'PodTemplateSpec.spec',
      );
      for (const key of ['initContainers', 'containers']) {
        for (const c of objectItems(podSpec, key, `PodSpec.${key}`))
          images.add(stringField(c, 'image', 'Container.image'));
      }
    }
  }
  for (const r of objectItems(spec, 'relatedImages', '.relatedImages')) {
    images.add(stringField(r, 'image', 'RelatedImage.image'));
  }
  return [...images];
}

function splitCrdName(name: string): [plural: string, group: string] {
  const dot = name.indexOf('.');
  if (dot === -1) throw new FieldError(`couldn't parse plural.group from crd name: ${name}`);
  return [name.slice(0, dot), name.slice(dot + 1)];
}

function descriptions(spec: JsonObject | undefined, section: string, which: 'owned' | 'required') {
  const block = objectField(spec, section, `.${section}`);
  return objectItems(block, which, `.${which}`).map((d) => ({
    name: stringField(d, 'name', 'name'),
    version: stringField(d, 'version', 'version'),
    kind: stringField(d, 'kind', 'kind'),
    group: stringField(d, 'group', 'group'),
  }));
}

type Description = ReturnType<typeof descriptions>[number];

function crdKey(d: Description): ApiKey {
  const [plural, group] = splitCrdName(d.name);
  return { group, version: d.version, kind: d.kind, plural };
}

function apiServiceKey(d: Description): ApiKey {
  return { group: d.group, version: d.version, kind: d.kind, plural: d.name };
}

function csvSpec(csv: JsonObject): JsonObject | undefined {
  return objectField(csv, 'spec', 'ClusterServiceVersion.spec');
}

/** spec.customresourcedefinitions.owned, each name split as plural.group. */
export function ownedCrdKeys(csv: JsonObject): ApiKey[] {
  return descriptions(csvSpec(csv), 'customresourcedefinitions', 'owned').map(crdKey);
}

/** spec.apiservicedefinitions.owned: APIs the CSV provides without a CRD. */
export function ownedApiServiceKeys(csv: JsonObject): ApiKey[] {
  return descriptions(csvSpec(csv), 'apiservicedefinitions', 'owned').map(apiServiceKey);
}

/** Required CRDs (name split as plural.group) and required API services. */
export function requiredApiKeys(csv: JsonObject): ApiKey[] {
  const spec = csvSpec(csv);
  return [
    ...descriptions(spec, 'customresourcedefinitions', 'required').map(crdKey),
    ...descriptions(spec, 'apiservicedefinitions', 'required').map(apiServiceKey),
  ];
}

const APIEXTENSIONS = 'apiextensions.k8s.io';
const V1BETA1 = `${APIEXTENSIONS}/v1beta1`;

function unregisteredCrd(apiVersion: string, prefix: string): FieldError {
  return new FieldError(
    `${prefix}: no kind "CustomResourceDefinition" is registered for version "${apiVersion}"`,
  );
}

/**
 * The keys of a CRD's spec.versions[] (names only; served/storage do not matter), plus, when
 * `withSpecVersion`, v1beta1's deprecated spec.version.
 */
function crdVersionKeys(crd: JsonObject, withSpecVersion: boolean): ApiKey[] {
  const spec = objectField(crd, 'spec', 'CustomResourceDefinition.spec');
  const group = stringField(spec, 'group', 'CustomResourceDefinitionSpec.group');
  const names = objectField(spec, 'names', 'CustomResourceDefinitionSpec.names');
  const kind = stringField(names, 'kind', 'CustomResourceDefinitionNames.kind');
  const plural = stringField(names, 'plural', 'CustomResourceDefinitionNames.plural');
  const keys: ApiKey[] = objectItems(spec, 'versions', 'CustomResourceDefinitionSpec.versions').map(
    (v) => ({
      group,
      version: stringField(v, 'name', 'CustomResourceDefinitionVersion.name'),
      kind,
      plural,
    }),
  );
  if (withSpecVersion) {
    const version = stringField(spec, 'version', 'CustomResourceDefinitionSpec.version');
    if (version !== '') keys.push({ group, version, kind, plural });
  }
  return keys;
}

/**
 * The APIs a CRD object provides, by the loader rules:
 * - v1.8.0 registered only apiextensions v1beta1, so any other apiVersion fails exactly as
 *   its decoder did; keys are spec.versions[].name plus spec.version;
 * - v1.26.5 picks the decoder by the apiVersion's *version*: `v1` (keys: every
 *   spec.versions[].name), `v1beta1` (as before); any other version is ignored and provides
 *   nothing; a group other than apiextensions.k8s.io fails the chosen decoder.
 */
export function crdApis(crd: JsonObject, rules: LoaderRules = 'v1.8.0'): ApiKey[] {
  const apiVersion = typeof crd.apiVersion === 'string' ? crd.apiVersion : '';
  if (rules === 'v1.26.5') {
    const slash = apiVersion.indexOf('/');
    const version = slash === -1 ? apiVersion : apiVersion.slice(slash + 1);
    const group = slash === -1 ? '' : apiVersion.slice(0, slash);
    if (version !== 'v1' && version !== 'v1beta1') return [];
    if (group !== APIEXTENSIONS) throw unregisteredCrd(apiVersion, `error decoding ${version} CRD`);
    try {
      return crdVersionKeys(crd, version === 'v1beta1');
    } catch (err) {
      throw new FieldError(`error decoding ${version} CRD: ${(err as Error).message}`);
    }
  }
  if (apiVersion !== V1BETA1) {
    if (apiVersion === '')
      throw new FieldError(`error decoding CRD: Object 'apiVersion' is missing`);
    return unregistered(apiVersion);
  }
  return crdVersionKeys(crd, true);
}

function unregistered(apiVersion: string): never {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/', 2) : ['', apiVersion];
  throw unregisteredCrd(group ? `${group}/${version}` : `${version}`, 'error decoding CRD');
}

export function apiKeyId(k: ApiKey): string {
  return JSON.stringify([k.group, k.version, k.kind, k.plural]);
}

/** Distinct keys, first occurrence kept (upstream used a Go map as a set). */
export function distinctApis(keys: ApiKey[]): ApiKey[] {
  const seen = new Map<string, ApiKey>();
  for (const k of keys) if (!seen.has(apiKeyId(k))) seen.set(apiKeyId(k), k);
  return [...seen.values()];
}

/** Go's %v of an APIKey struct: {group version kind plural}. */
export function formatApiKey(k: ApiKey): string {
  return `{${k.group} ${k.version} ${k.kind} ${k.plural}}`;
}
