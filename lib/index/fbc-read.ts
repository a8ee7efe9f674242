// Reads FBC JSON text (one or more `catalog.json` files: a stream of JSON objects) back into
// FbcCatalog objects, so a catalog we did not write ourselves — the reference `opm migrate`
// output, or the /configs of an image we pulled — can be cached, validated or compared with
// the same code as ours. Property values are re-encoded compactly in Go's style without HTML
// escaping (key order kept), which is how opm's loader normalises them.

import { CatalogError } from '../errors.js';
import type { FbcBundle, FbcCatalog, FbcChannel, FbcPackage, FbcPackageFile } from './fbc-model.js';
import { compareUtf8, goJsonMarshal, RawJson } from './go-json.js';

export class FbcReadError extends CatalogError {
  override name = 'FbcReadError';
}

/** Splits a stream of concatenated JSON values into the text of each top-level value. */
export function splitJsonStream(text: string): string[] {
  const docs: string[] = [];
  let depth = 0;
  let start = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      i++;
      while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      continue;
    }
    if (c === '{' || c === '[') {
      if (depth === 0) start = i;
      depth++;
    } else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) docs.push(text.slice(start, i + 1));
    } else if (depth === 0 && c !== ' ' && c !== '\n' && c !== '\r' && c !== '\t') {
      throw new FbcReadError(`reading FBC: unexpected ${JSON.stringify(c)} at offset ${i}`);
    }
  }
  if (depth !== 0) throw new FbcReadError('reading FBC: unterminated JSON value');
  return docs;
}

function compact(value: unknown): RawJson {
  return new RawJson(goJsonMarshal(value, { escapeHtml: false, sortKeys: false }));
}

/** The objects of the given file texts, grouped by package (sorted) as our writer groups them. */
export function readFbc(texts: readonly string[]): FbcCatalog {
  const byPackage = new Map<string, FbcPackageFile>();
  const file = (name: string): FbcPackageFile => {
    let f = byPackage.get(name);
    if (!f) {
      f = {
        package: { schema: 'olm.package', name, defaultChannel: '' },
        channels: [],
        bundles: [],
      };
      byPackage.set(name, f);
    }
    return f;
  };
  for (const text of texts) {
    for (const doc of splitJsonStream(text)) {
      const o = JSON.parse(doc) as Record<string, unknown>;
      switch (o.schema) {
        case 'olm.package':
          file(String(o.name)).package = o as unknown as FbcPackage;
          break;
        case 'olm.channel':
          file(String(o.package)).channels.push(o as unknown as FbcChannel);
          break;
        case 'olm.bundle': {
          const b = o as unknown as FbcBundle;
          const props = (o.properties ?? undefined) as
            | { type: string; value: unknown }[]
            | undefined;
          if (props) b.properties = props.map((p) => ({ type: p.type, value: compact(p.value) }));
          file(String(o.package)).bundles.push(b);
          break;
        }
        default:
          break;
      }
    }
  }
  const packages = [...byPackage.values()].sort((a, b) =>
    compareUtf8(a.package.name, b.package.name),
  );
  for (const p of packages) {
    p.channels.sort((a, b) => compareUtf8(a.name, b.name));
    p.bundles.sort((a, b) => compareUtf8(a.name, b.name));
  }
  return { packages };
}
