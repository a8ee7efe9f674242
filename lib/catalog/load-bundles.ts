// Walk 1 of operator-registry's DirectoryLoader: every file whose first document is a
// ClusterServiceVersion makes a bundle of all visible files of its folder (first document of
// each; other CSVs of the folder left out; sub-folders and undecodable files ignored). A
// bundle that cannot be inserted (no name, a duplicate name, a CRD the rules' decoder
// rejects, a malformed required API; under v1.26.5 also `olm.substitutesFor` and a bad
// `olm.properties` annotation) is a problem and contributes nothing, as its rolled-back
// transaction did; a missing owned CRD is reported but the bundle still goes in. Under
// v1.26.5 the checks run in the order of its AddOperatorBundle, with its error texts.
import {
  apiKeyId,
  crdApis,
  csvAnnotation,
  csvGraphFields,
  csvImages,
  distinctApis,
  FieldError,
  formatApiKey,
  hasCsvAnnotation,
  metadataName,
  ownedApiServiceKeys,
  ownedCrdKeys,
  requiredApiKeys,
} from './csv-fields.js';
import type { ManifestTree } from './manifest-tree.js';
import type { ApiKey, Bundle, LoaderRules, Problem, Property } from './model.js';
import {
  annotationProperties,
  distinctProperties,
  gvkProperty,
  PROPERTIES_ANNOTATION,
} from './properties.js';
import { asKubernetesObject, type JsonObject } from './yaml-document.js';

const CSV_KIND = 'ClusterServiceVersion';
const CRD_KIND = 'CustomResourceDefinition';
const SUBSTITUTES_FOR_ANNOTATION = 'olm.substitutesFor';

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Objects of the CSV's folder that belong to its bundle, in file-name order. */
function bundleObjects(tree: ManifestTree, dir: string, csvName: string): JsonObject[] {
  const objects: JsonObject[] = [];
  for (const file of tree.filesIn(dir)) {
    const obj = asKubernetesObject(file.document);
    if (!obj) continue;
    if (obj.kind === CSV_KIND && metadataName(obj) !== csvName) continue;
    objects.push(obj);
  }
  return objects;
}

function providedApis(objects: JsonObject[], csv: JsonObject, rules: LoaderRules): ApiKey[] {
  const keys: ApiKey[] = [];
  for (const obj of objects) if (obj.kind === CRD_KIND) keys.push(...crdApis(obj, rules));
  keys.push(...ownedApiServiceKeys(csv));
  return distinctApis(keys);
}

/** upstream's AllProvidedAPIsInBundle: every owned CRD of the CSV must be in the bundle. */
function checkOwnedApis(
  name: string,
  csv: JsonObject,
  objects: JsonObject[],
  rules: LoaderRules,
): string | undefined {
  try {
    const provided = providedApis(objects, csv, rules);
    const have = new Set(provided.map(apiKeyId));
    for (const owned of distinctApis(ownedCrdKeys(csv))) {
      if (!have.has(apiKeyId(owned))) {
        const found = provided
          .map((k) => `${formatApiKey(k)}:{}`)
          .sort()
          .join(' ');
        return `error checking provided apis in bundle ${name}: couldn't find ${formatApiKey(owned)} in bundle. found: map[${found}]`;
      }
    }
  } catch (err) {
    return `error checking provided apis in bundle ${name}: ${message(err)}`;
  }
  return undefined;
}

/** Everything the index stores for one bundle, or the reason the insert failed (v1.8.0). */
function makeBundle(dir: string, csv: JsonObject, objects: JsonObject[], names: Set<string>) {
  const name = metadataName(csv);
  if (name === '') throw new FieldError('csv name not found');
  const graph = csvGraphFields(csv);
  const relatedImages = csvImages(csv);
  const provided = providedApis(objects, csv, 'v1.8.0');
  const required = distinctApis(requiredApiKeys(csv));
  if (names.has(name)) throw new FieldError('UNIQUE constraint failed: operatorbundle.name');
  const none: Property[] = [];
  return {
    name,
    dir,
    csv,
    objects,
    ...graph,
    relatedImages,
    provided,
    required,
    properties: none,
    dependencies: none,
  };
}

/**
 * What v1.26.5 names a failed bundle by: name/version/bundle image, the version being what
 * its Version() gives (spec.version; '' when the bundle cache, CSV or CRD decoding, fails).
 */
function upstreamBundleId(csvName: string, csv: JsonObject, objects: JsonObject[]): string {
  let version = '';
  try {
    providedApis(objects, csv, 'v1.26.5');
    version = csvGraphFields(csv).version;
  } catch {
    // as upstream: the version is then ''
  }
  return `${csvName}/${version}/`;
}

/**
 * v1.26.5's AddOperatorBundle, step by step: its bundle cache (CSV and CRD decoding) first,
 * then the graph fields, substitutesFor, the operatorbundle row (name unique), dependencies
 * (required APIs), properties (provided GVKs and the olm.properties annotation).
 */
function makeBundleV1265(
  dir: string,
  csv: JsonObject,
  objects: JsonObject[],
  names: Set<string>,
): Bundle {
  const name = metadataName(csv);
  if (name === '') throw new FieldError('csv name not found');
  let provided: ApiKey[];
  try {
    provided = providedApis(objects, csv, 'v1.26.5');
  } catch (err) {
    throw new FieldError(`unable to obtain bundle version : ${message(err)}`);
  }
  const graph = csvGraphFields(csv);
  const fail = (msg: string) => new FieldError(msg);
  if (csvAnnotation(csv, SUBSTITUTES_FOR_ANNOTATION) !== '')
    throw fail(
      'SubstitutesFor is an alpha-only feature. You must enable alpha features with the flag --enable-alpha in order to use this feature.',
    );
  if (names.has(name))
    throw fail(`failed to add bundle "${name}": UNIQUE constraint failed: operatorbundle.name`);
  const relatedImages = csvImages(csv);
  let required: ApiKey[];
  try {
    required = distinctApis(requiredApiKeys(csv));
  } catch (err) {
    throw fail(`failed to add dependencies : ${message(err)}`);
  }
  const dependencies = distinctProperties(required.map(gvkProperty));
  let properties: Property[];
  try {
    const annotated = hasCsvAnnotation(csv, PROPERTIES_ANNOTATION)
      ? annotationProperties(csvAnnotation(csv, PROPERTIES_ANNOTATION))
      : [];
    properties = distinctProperties([...provided.map(gvkProperty), ...annotated]);
  } catch (err) {
    throw fail(`failed to add properties : ${message(err)}`);
  }
  return {
    name,
    dir,
    csv,
    objects,
    ...graph,
    relatedImages,
    provided,
    required,
    properties,
    dependencies,
  };
}

/**
 * `names`: the bundle names already inserted, when a tree is loaded part by part (the
 * operatorbundle.name constraint spans the whole catalog); updated with this part's.
 */
export function loadBundles(
  tree: ManifestTree,
  rules: LoaderRules = 'v1.8.0',
  names: Set<string> = new Set(),
): { bundles: Bundle[]; problems: Problem[] } {
  const bundles: Bundle[] = [];
  const problems: Problem[] = [];
  for (const file of tree.files) {
    const csv = asKubernetesObject(file.document);
    if (!csv || csv.kind !== CSV_KIND) continue;
    const csvName = metadataName(csv);
    const objects = bundleObjects(tree, file.dir, csvName);
    const subject = csvName || file.path;
    const ownedProblem = checkOwnedApis(csvName, csv, objects, rules);
    if (ownedProblem) problems.push({ subject, kind: 'bundle', message: ownedProblem });
    try {
      const bundle =
        rules === 'v1.26.5'
          ? makeBundleV1265(file.dir, csv, objects, names)
          : makeBundle(file.dir, csv, objects, names);
      names.add(bundle.name);
      bundles.push(bundle);
    } catch (err) {
      // v1.26.5 names the bundle as name/version/bundle image (the image is '' here).
      const what = rules === 'v1.26.5' ? upstreamBundleId(csvName, csv, objects) : subject;
      problems.push({
        subject,
        kind: 'bundle',
        message: `error adding operator bundle ${what}: ${message(err)}`,
      });
    }
  }
  return { bundles, problems };
}
