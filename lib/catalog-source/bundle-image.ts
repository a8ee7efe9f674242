// What a bundle image holds, without a container daemon: its config labels (a bundle image
// carries the `annotations:` of metadata/annotations.yaml as labels, and upstream's render
// only treats an image with the package label as a bundle) and the files of its layers
// (manifests/, metadata/) as the FileTree the bundle-format rules read. The image is read
// through an ImageSource from the one factory (lib/layout/image-ports.ts), so a registry and
// an OCI layout are read alike; its layers become files as a catalog image's do
// (image-layer-files.ts: whiteouts, no links, the archive caps). It lives with the other
// readers of catalog content (catalog-source), not in the registry adapter: it reads any
// ImageSource and knows bundles, not HTTP.
import type { DecodeLimits } from '../archive/limits.js';
import { PACKAGE_ANNOTATION } from '../catalog/bundle-format.js';
import type { FileTree } from '../catalog/file-tree.js';
import type { ImageSource } from '../image/ports.js';
import { ImageLayersError, imageLayerFiles, type LayerBlob } from './image-layer-files.js';

/** The image is not a bundle image (no package label) or its layers cannot be read. */
export class BundleImageError extends ImageLayersError {
  override name = 'BundleImageError';
}

/** The image has no `operators.operatorframework.io.bundle.package.v1` label. */
export class BundleImageLabelsError extends BundleImageError {
  override name = 'BundleImageLabelsError';
}

export interface BundleImageContent {
  labels: Record<string, string>;
  files: FileTree;
}

/** The config's labels (config.config.Labels), checked for the bundle package label. */
export function bundleLabels(ref: string, config: unknown): Record<string, string> {
  const inner = (config as { config?: { Labels?: unknown } } | undefined)?.config;
  const raw = inner?.Labels;
  const labels: Record<string, string> = {};
  if (raw && typeof raw === 'object')
    for (const [k, v] of Object.entries(raw)) if (typeof v === 'string') labels[k] = v;
  if (!labels[PACKAGE_ANNOTATION]) {
    const keys = Object.keys(labels).sort();
    throw new BundleImageLabelsError(
      `reading bundle image ${ref}: not a bundle image, no ${PACKAGE_ANNOTATION} label (${keys.length === 0 ? 'the image has no labels' : `found labels ${keys.join(', ')}`})`,
    );
  }
  return labels;
}

/** A bundle image's layer files; unreadable layers are BundleImageError. */
export function bundleLayerFiles(
  ref: string,
  layers: readonly LayerBlob[],
  limits: Partial<DecodeLimits> = {},
): FileTree {
  return imageLayerFiles(`bundle image ${ref}`, layers, limits, BundleImageError);
}

export interface PulledBundleImage extends BundleImageContent {
  /** The reference as given (it becomes the bundle's `image`). */
  ref: string;
  /** Digest of the image manifest that was read. */
  digest: string;
}

function parseJson(ref: string, what: string, bytes: Uint8Array): Record<string, unknown> {
  try {
    const value = JSON.parse(new TextDecoder().decode(bytes)) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value))
      return value as Record<string, unknown>;
    throw new Error('not a JSON object');
  } catch (err) {
    throw new BundleImageError(`reading bundle image ${ref}: ${what}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

interface DescriptorLike {
  digest: string;
  mediaType?: string;
  size?: number;
  platform?: { os?: string; architecture?: string };
}

function descriptors(value: unknown): DescriptorLike[] {
  return Array.isArray(value)
    ? value.filter((d): d is DescriptorLike => typeof d?.digest === 'string')
    : [];
}

/** A bundle image's manifest digest, labels and layer descriptors (no layer read yet). */
export interface ResolvedBundleImage {
  ref: string;
  digest: string;
  labels: Record<string, string>;
  layers: { digest: string; mediaType: string; size: number }[];
}

/**
 * Reads a bundle image's manifest (an index picks linux/amd64, else its first image) and
 * config; a config without the package label is BundleImageLabelsError. `ref` is the name the
 * bundle is known by (its `image`); default the source's name.
 */
export async function resolveBundleImage(
  source: ImageSource,
  ref: string = source.name,
): Promise<ResolvedBundleImage> {
  let m = await source.manifest();
  let doc = parseJson(ref, 'manifest', m.bytes);
  if (Array.isArray(doc.manifests)) {
    const list = descriptors(doc.manifests);
    const pick =
      list.find((d) => d.platform?.os === 'linux' && d.platform.architecture === 'amd64') ??
      list[0];
    if (!pick) throw new BundleImageError(`reading bundle image ${ref}: the index lists no image`);
    m = await source.manifest(pick.digest);
    doc = parseJson(ref, 'manifest', m.bytes);
  }
  const config = descriptors([doc.config])[0];
  if (!config) throw new BundleImageError(`reading bundle image ${ref}: manifest has no config`);
  const labels = bundleLabels(
    ref,
    parseJson(ref, 'config', await source.blob(config.digest, 'config')),
  );
  const layers = descriptors(doc.layers).map((d) => ({
    digest: d.digest,
    mediaType: d.mediaType ?? '',
    size: typeof d.size === 'number' ? d.size : 0,
  }));
  return { ref, digest: m.digest, labels, layers };
}

/** Pulls one bundle image whole: labels and the files of its layers. */
export async function pullBundleImage(
  source: ImageSource,
  ref: string = source.name,
  limits: Partial<DecodeLimits> = {},
): Promise<PulledBundleImage> {
  const resolved = await resolveBundleImage(source, ref);
  const layers: LayerBlob[] = [];
  for (const d of resolved.layers)
    layers.push({ mediaType: d.mediaType, data: await source.blob(d.digest) });
  return {
    ref,
    digest: resolved.digest,
    labels: resolved.labels,
    files: bundleLayerFiles(ref, layers, limits),
  };
}
