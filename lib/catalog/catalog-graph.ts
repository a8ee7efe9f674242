// The neutral "catalog graph": what a catalog says about upgrades, whatever it was stored as
// (schema-7 or schema-13 SQLite, a file-based catalog, an image carrying either). Diffs and
// Mermaid graphs work on this shape only, so every reader converges here and nothing
// downstream switches on a format. Entries keep the order their source gives (an FBC's
// file order, which render-graph's output follows); a reader of a DB sorts them by name,
// as `opm migrate` does.
import { CatalogError } from '../errors.js';
import { compareBytes } from './file-tree.js';
import { isObject, type JsonObject } from './yaml-document.js';

export interface GraphEntry {
  /** Bundle (CSV) name. */
  name: string;
  replaces?: string;
  skips: string[];
  skipRange?: string;
}

export interface GraphChannel {
  name: string;
  entries: GraphEntry[];
}

export interface GraphPackage {
  name: string;
  defaultChannel: string;
  /** In source order; `channelsByName` gives the sorted view. */
  channels: GraphChannel[];
}

export interface GraphBundle {
  name: string;
  package: string;
  /** As the catalog states it (olm.package version / operatorbundle.version); '' if none. */
  version: string;
}

export interface CatalogGraph {
  packages: GraphPackage[];
  /** Bundle name → bundle; the first of a repeated name wins, as upstream's version map. */
  bundles: Map<string, GraphBundle>;
}

export class CatalogFormatError extends CatalogError {
  override name = 'CatalogFormatError';
}

function str(o: JsonObject, key: string): string {
  const v = o[key];
  return typeof v === 'string' ? v : '';
}

/** The version a bundle's olm.package property states, '' when it has none. */
function packageVersion(bundle: JsonObject): string {
  const props = Array.isArray(bundle.properties) ? bundle.properties : [];
  for (const p of props) {
    if (isObject(p) && p.type === 'olm.package' && isObject(p.value)) {
      const v = p.value.version;
      if (typeof v === 'string') return v;
    }
  }
  return '';
}

/**
 * Builds the graph from FBC objects in walk order (files in byte order of their path, objects
 * in file order). Channels and bundles of a package that has no olm.package object still
 * count: render-graph draws them too.
 */
export function graphFromFbcObjects(objects: unknown[]): CatalogGraph {
  const packages = new Map<string, GraphPackage>();
  const bundles = new Map<string, GraphBundle>();
  const pkg = (name: string) => {
    let p = packages.get(name);
    if (!p) {
      p = { name, defaultChannel: '', channels: [] };
      packages.set(name, p);
    }
    return p;
  };
  for (const o of objects) {
    if (!isObject(o)) continue;
    switch (o.schema) {
      case 'olm.package':
        pkg(str(o, 'name')).defaultChannel = str(o, 'defaultChannel');
        break;
      case 'olm.channel': {
        const entries = (Array.isArray(o.entries) ? o.entries : []).filter(isObject).map((e) => {
          const entry: GraphEntry = {
            name: str(e, 'name'),
            skips: Array.isArray(e.skips) ? e.skips.filter((s) => typeof s === 'string') : [],
          };
          if (str(e, 'replaces')) entry.replaces = str(e, 'replaces');
          if (str(e, 'skipRange')) entry.skipRange = str(e, 'skipRange');
          return entry;
        });
        pkg(str(o, 'package')).channels.push({ name: str(o, 'name'), entries });
        break;
      }
      case 'olm.bundle': {
        const name = str(o, 'name');
        if (!bundles.has(name))
          bundles.set(name, { name, package: str(o, 'package'), version: packageVersion(o) });
        break;
      }
    }
  }
  return {
    packages: [...packages.values()].sort((a, b) => compareBytes(a.name, b.name)),
    bundles,
  };
}

/** Channels of a package sorted by name (bytewise), the order graphs and diffs use. */
export function channelsByName(p: GraphPackage): GraphChannel[] {
  return [...p.channels].sort((a, b) => compareBytes(a.name, b.name));
}

/**
 * The head of a channel: the entry no other entry replaces or skips (operator-registry's
 * rule). Several candidates (a broken graph) → the greatest name, so the answer is stable;
 * none (a cycle) → undefined.
 */
export function channelHead(channel: GraphChannel): string | undefined {
  const pointedAt = new Set<string>();
  for (const e of channel.entries) {
    if (e.replaces) pointedAt.add(e.replaces);
    for (const s of e.skips) pointedAt.add(s);
  }
  const heads = channel.entries.map((e) => e.name).filter((n) => !pointedAt.has(n));
  return [...new Set(heads)].sort(compareBytes).at(-1);
}
