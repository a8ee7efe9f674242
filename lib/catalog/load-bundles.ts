// Walk 1 of operator-registry's DirectoryLoader: every file whose first document is a
// ClusterServiceVersion makes a bundle of all visible files of its folder (first document of
// each; other CSVs of the folder left out; sub-folders and undecodable files ignored). A
// bundle that cannot be inserted (no name, a duplicate name, a CRD that v1.8.0 could not
// decode, a malformed required API) is a problem and contributes nothing, as its rolled-back
// transaction did; a missing owned CRD is reported but the bundle still goes in.
import {
  apiKeyId,
  crdApis,
  csvGraphFields,
  csvImages,
  distinctApis,
  FieldError,
  formatApiKey,
  metadataName,
  ownedApiServiceKeys,
  ownedCrdKeys,
  requiredApiKeys,
} from './csv-fields.js';
import type { ManifestTree } from './manifest-tree.js';
import type { ApiKey, Bundle, Problem } from './model.js';
import { asKubernetesObject, type JsonObject } from './yaml-document.js';

const CSV_KIND = 'ClusterServiceVersion';
const CRD_KIND = 'CustomResourceDefinition';

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

function providedApis(objects: JsonObject[], csv: JsonObject): ApiKey[] {
  const keys: ApiKey[] = [];
  for (const obj of objects) if (obj.kind === CRD_KIND) keys.push(...crdApis(obj));
  keys.push(...ownedApiServiceKeys(csv));
  return distinctApis(keys);
}

/** upstream's AllProvidedAPIsInBundle: every owned CRD of the CSV must be in the bundle. */
function checkOwnedApis(name: string, csv: JsonObject, objects: JsonObject[]): string | undefined {
  try {
    const provided = providedApis(objects, csv);
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

/** Everything the index stores for one bundle, or the reason the insert failed. */
function makeBundle(dir: string, csv: JsonObject, objects: JsonObject[]): Bundle {
  const name = metadataName(csv);
  if (name === '') throw new FieldError('csv name not found');
  const graph = csvGraphFields(csv);
  const relatedImages = csvImages(csv);
  const provided = providedApis(objects, csv);
  const required = distinctApis(requiredApiKeys(csv));
  return { name, dir, csv, objects, ...graph, relatedImages, provided, required };
}

export function loadBundles(tree: ManifestTree): { bundles: Bundle[]; problems: Problem[] } {
  const bundles: Bundle[] = [];
  const problems: Problem[] = [];
  const names = new Set<string>();
  for (const file of tree.files) {
    const csv = asKubernetesObject(file.document);
    if (!csv || csv.kind !== CSV_KIND) continue;
    const csvName = metadataName(csv);
    const objects = bundleObjects(tree, file.dir, csvName);
    const subject = csvName || file.path;
    const ownedProblem = checkOwnedApis(csvName, csv, objects);
    if (ownedProblem) problems.push({ subject, kind: 'bundle', message: ownedProblem });
    try {
      const bundle = makeBundle(file.dir, csv, objects);
      if (names.has(bundle.name))
        throw new FieldError('UNIQUE constraint failed: operatorbundle.name');
      names.add(bundle.name);
      bundles.push(bundle);
    } catch (err) {
      problems.push({
        subject,
        kind: 'bundle',
        message: `error adding operator bundle ${subject}: ${message(err)}`,
      });
    }
  }
  return { bundles, problems };
}
