// Reads the catalog a catalog image carries, from any image location (`host/repo:tag`,
// `oci:DIR[:TAG]`, `file://NAME` under a root) through the one ImageSource factory: the
// linux/amd64 image (or the only one), its layers applied in order, then the catalog found
// the way opm finds it — the SQLite file the label
// `operators.operatorframework.io.index.database.v1` names, or the FBC directory the label
// `operators.operatorframework.io.index.configs.v1` names; an image without either (oc's
// builds on a base without labels) is searched for `/bundles.db`.
import { parseSourceLocation } from '../image/location.js';
import { FBC_CONFIGS_LABEL } from '../index/fbc-image.js';
import { isSqliteFile } from '../index/read-index.js';
import { openImageSource } from '../layout/image-ports.js';
import { registryClientOnDemand } from '../registry/open-client.js';
import { imageLayerFiles } from './image-layer-files.js';
import type { LoadedCatalogFiles } from './read-catalog.js';
import { CatalogSourceError } from './read-catalog.js';

export const DATABASE_LABEL = 'operators.operatorframework.io.index.database.v1';

export interface CatalogImageOptions {
  insecure?: boolean;
  /** Root of `file://` locations (`--dir`); default the working directory. */
  fileRoot?: string;
  credentials?: { registryAuthFile?: string; registryAuthConfig?: unknown };
}

const strip = (p: string) => p.replace(/^\/+/, '').replace(/\/+$/, '');

export async function readCatalogImage(
  ref: string,
  options: CatalogImageOptions = {},
): Promise<LoadedCatalogFiles> {
  const loc = parseSourceLocation(ref);
  if (loc.kind === 'scratch')
    throw new CatalogSourceError('reading catalog image scratch: it is empty');
  const registry = registryClientOnDemand(
    options.credentials ? { credentials: options.credentials } : {},
    { insecure: options.insecure ?? false },
  );
  try {
    const source = openImageSource(loc, {
      registry: () => registry.get(),
      ...(options.fileRoot ? { fileRoot: options.fileRoot } : {}),
    });
    // An index: linux/amd64 as opm pulls by default; a single image: that one.
    const { bases } = await source.resolve('^linux/amd64$');
    const image = bases[0]?.image;
    if (!image) throw new CatalogSourceError(`reading catalog image ${ref}: no linux/amd64 image`);
    const labels = (image.config.value.config?.Labels ?? {}) as Record<string, string>;
    const layers = await Promise.all(
      image.manifest.value.layers.map(async (l) => ({
        mediaType: l.mediaType,
        data: await source.blob(l.digest),
      })),
    );
    const files = imageLayerFiles(`catalog image ${ref}`, layers);
    const configs = labels[FBC_CONFIGS_LABEL];
    if (configs) {
      const dir = `${strip(configs)}/`;
      const fbc = files
        .filter((f) => f.path.startsWith(dir) && /\.(json|ya?ml)$/.test(f.path))
        .map((f) => ({ path: f.path.slice(dir.length), text: new TextDecoder().decode(f.data) }));
      if (fbc.length === 0)
        throw new CatalogSourceError(
          `reading catalog image ${ref}: ${FBC_CONFIGS_LABEL}=${configs} holds no FBC files`,
        );
      return { kind: 'fbc', files: fbc };
    }
    const dbPath = strip(labels[DATABASE_LABEL] ?? 'bundles.db');
    const db = files.find((f) => f.path === dbPath);
    if (!db || !isSqliteFile(db.data))
      throw new CatalogSourceError(
        `reading catalog image ${ref}: no catalog (no ${FBC_CONFIGS_LABEL} label, and /${dbPath} is ${db ? 'not an SQLite file' : 'absent'})`,
      );
    return { kind: 'sqlite', bytes: db.data };
  } finally {
    await registry.close();
  }
}
