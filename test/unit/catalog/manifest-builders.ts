// Small builders for manifests trees in tests: each file is YAML text written here (or given
// verbatim), so a test states the whole tree it loads. Not a test file itself.
import yaml from 'js-yaml';
import type { FileTree } from '../../../lib/catalog/file-tree.js';

export type FileContent = string | Record<string, unknown>;

/** A FileTree from path → YAML text, or path → object (written as YAML). */
export function fileTree(files: Record<string, FileContent>): FileTree {
  return Object.entries(files).map(([path, content]) => ({
    path,
    data: new TextEncoder().encode(typeof content === 'string' ? content : yaml.dump(content)),
  }));
}

export interface CrdDescription {
  name: string;
  version: string;
  kind: string;
}

export interface ApiServiceDescription {
  name: string;
  group: string;
  version: string;
  kind: string;
}

export interface CsvOptions {
  version?: string;
  replaces?: string;
  skips?: string[];
  skipRange?: string;
  owned?: CrdDescription[];
  required?: CrdDescription[];
  ownedApiServices?: ApiServiceDescription[];
  requiredApiServices?: ApiServiceDescription[];
  relatedImages?: Array<{ name?: string; image?: string }>;
  /** Deployments of the "deployment" install strategy: container and init container images. */
  deployments?: Array<{ containers?: Array<string | undefined>; initContainers?: string[] }>;
}

/** A ClusterServiceVersion named `name`. */
export function csv(name: string, o: CsvOptions = {}): Record<string, unknown> {
  const spec: Record<string, unknown> = { displayName: name };
  if (o.version !== undefined) spec.version = o.version;
  if (o.replaces !== undefined) spec.replaces = o.replaces;
  if (o.skips) spec.skips = o.skips;
  if (o.owned || o.required) {
    spec.customresourcedefinitions = {
      ...(o.owned ? { owned: o.owned } : {}),
      ...(o.required ? { required: o.required } : {}),
    };
  }
  if (o.ownedApiServices || o.requiredApiServices) {
    spec.apiservicedefinitions = {
      ...(o.ownedApiServices ? { owned: o.ownedApiServices } : {}),
      ...(o.requiredApiServices ? { required: o.requiredApiServices } : {}),
    };
  }
  if (o.relatedImages) spec.relatedImages = o.relatedImages;
  if (o.deployments) {
    spec.install = {
      strategy: 'deployment',
      spec: {
        deployments: o.deployments.map((d, i) => ({
          name: `deploy-${i}`,
          spec: {
            template: {
              spec: {
                containers: (d.containers ?? []).map((image, j) => ({
                  name: `c${j}`,
                  ...(image === undefined ? {} : { image }),
                })),
                ...(d.initContainers
                  ? {
                      initContainers: d.initContainers.map((image, j) => ({
                        name: `i${j}`,
                        image,
                      })),
                    }
                  : {}),
              },
            },
          },
        })),
      },
    };
  }
  return {
    apiVersion: 'operators.coreos.com/v1alpha1',
    kind: 'ClusterServiceVersion',
    metadata: {
      name,
      ...(o.skipRange ? { annotations: { 'olm.skipRange': o.skipRange } } : {}),
    },
    spec,
  };
}

/** A CRD `plural.group` of `kind`, serving `versions` (apiextensions v1beta1 unless told). */
export function crd(
  plural: string,
  group: string,
  kind: string,
  versions: string[],
  apiVersion = 'apiextensions.k8s.io/v1beta1',
): Record<string, unknown> {
  return {
    apiVersion,
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      names: { kind, plural, singular: kind.toLowerCase() },
      scope: 'Namespaced',
      versions: versions.map((v, i) => ({ name: v, served: true, storage: i === 0 })),
    },
  };
}

/** A package manifest; channels as name → currentCSV in the order given. */
export function pkg(
  packageName: string,
  channels: Record<string, string>,
  defaultChannel?: string,
): Record<string, unknown> {
  return {
    packageName,
    channels: Object.entries(channels).map(([name, currentCSV]) => ({ name, currentCSV })),
    ...(defaultChannel === undefined ? {} : { defaultChannel }),
  };
}
