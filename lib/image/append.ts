// Append-layer, as go-containerregistry's mutate.Append and oc's `image append` do it: the
// layer's uncompressed digest (diffId) goes into the config's rootfs.diff_ids, the compressed
// digest and size into the manifest. The base config is otherwise kept as it was, unknown
// fields and key order included (it is parsed, edited in place on a copy and re-serialised),
// so the result stays what the base's authors built; only `created`, `rootfs.diff_ids` and one
// `history` entry change — plus, when asked (an FBC image, as `opm generate dockerfile` builds
// it), the run settings of `config`: labels merged over the base's, Entrypoint and Cmd set.
// Media types follow the base manifest's family (see media-types.ts).
import { toRaw } from './digest.js';
import { MalformedImageError } from './errors.js';
import { FAMILY_TYPES, familyOf } from './media-types.js';
import type { ConfigFile, Descriptor, HistoryEntry, Image, Manifest } from './types.js';

export interface AppendedLayer {
  digest: string;
  size: number;
  diffId: string;
  /** Annotations for the layer descriptor (OCI and Docker both allow them; none by default). */
  annotations?: Record<string, string>;
}

export interface AppendOptions {
  /** RFC 3339 time for config `created` and the history entry (see formatCreated). */
  created: string;
  /** `created_by` of the history entry. */
  createdBy?: string;
  /** Optional `comment` of the history entry. */
  comment?: string;
  /** Run settings for config.config (Docker's LABEL / ENTRYPOINT / CMD); absent: kept as the base has them. */
  runConfig?: RunConfig;
}

export interface RunConfig {
  /** Merged over the base's config.Labels (ours win). */
  labels?: Record<string, string>;
  entrypoint?: string[];
  cmd?: string[];
}

function applyRunConfig(config: ConfigFile, run: RunConfig): void {
  const inner = { ...(config.config ?? {}) } as Record<string, unknown>;
  if (run.entrypoint) inner.Entrypoint = [...run.entrypoint];
  if (run.cmd) inner.Cmd = [...run.cmd];
  if (run.labels) {
    const base = inner.Labels && typeof inner.Labels === 'object' ? inner.Labels : {};
    inner.Labels = { ...(base as Record<string, string>), ...run.labels };
  }
  config.config = inner;
}

export const DEFAULT_CREATED_BY = 'catalog-build: add /bundles.db';

/**
 * The image's `created` when SOURCE_DATE_EPOCH (or sourceDateEpoch) does not fix it: taken
 * from the input, never the clock, so two builds of an unchanged upstream give the same
 * digest and upload nothing. It is the newest `created` of the base configs kept (the image
 * is as new as its base), or the Unix epoch for scratch or a base without a valid `created`.
 */
export function createdFromInput(configs: readonly { created?: unknown }[]): number {
  let newest = 0;
  for (const c of configs) {
    const t = typeof c.created === 'string' ? Date.parse(c.created) : Number.NaN;
    if (Number.isFinite(t) && t > newest * 1000) newest = Math.floor(t / 1000);
  }
  return newest;
}

/** Seconds since the epoch → RFC 3339 as Go prints it (no fraction when whole seconds). */
export function formatCreated(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace('.000Z', 'Z');
}

function checkBase(base: Image): void {
  const m = base.manifest.value;
  if (!m || typeof m !== 'object' || !m.config || !Array.isArray(m.layers)) {
    throw new MalformedImageError(
      `appending layer to ${base.manifest.digest}: manifest has no config or layers`,
    );
  }
  const c = base.config.value;
  if (!c || typeof c !== 'object' || !c.rootfs || !Array.isArray(c.rootfs.diff_ids)) {
    throw new MalformedImageError(
      `appending layer to ${base.manifest.digest}: config has no rootfs.diff_ids`,
    );
  }
  if (c.rootfs.diff_ids.length !== m.layers.length) {
    throw new MalformedImageError(
      `appending layer to ${base.manifest.digest}: config lists ${c.rootfs.diff_ids.length} diff_ids for ${m.layers.length} layers`,
    );
  }
}

/** Number of history entries that stand for a layer (the rest are metadata-only steps). */
function layerHistoryCount(history: HistoryEntry[]): number {
  return history.filter((h) => !h.empty_layer).length;
}

/** The new image: config and manifest as exact bytes with their digests. Pure; the base is not modified. */
export function appendLayer(base: Image, layer: AppendedLayer, options: AppendOptions): Image {
  checkBase(base);
  const family = familyOf(base.manifest.mediaType);
  const types = FAMILY_TYPES[family];

  const config = structuredClone(base.config.value) as ConfigFile;
  // `created` keeps its key position when the base has one, else is added at the end.
  config.created = options.created;
  config.rootfs.diff_ids = [...config.rootfs.diff_ids, layer.diffId];
  const history = config.history ? [...config.history] : [];
  // A base whose history has fewer layer entries than layers gets padding entries first (oc did
  // the same), so every tool that pairs history with layers still lines ours up with our layer.
  const baseLayers = base.manifest.value.layers.length;
  for (let i = layerHistoryCount(history); i < baseLayers; i++) {
    history.push(base.config.value.created ? { created: base.config.value.created } : {});
  }
  const entry: HistoryEntry = {
    created: options.created,
    created_by: options.createdBy ?? DEFAULT_CREATED_BY,
  };
  if (options.comment) entry.comment = options.comment;
  history.push(entry);
  config.history = history;
  if (options.runConfig) applyRunConfig(config, options.runConfig);
  const configRaw = toRaw(config, base.config.mediaType);

  const manifest = structuredClone(base.manifest.value) as Manifest;
  const layerDescriptor: Descriptor = {
    mediaType: types.layer,
    digest: layer.digest,
    size: layer.size,
  };
  if (layer.annotations && Object.keys(layer.annotations).length > 0)
    layerDescriptor.annotations = layer.annotations;
  manifest.config = {
    ...manifest.config,
    mediaType: base.manifest.value.config.mediaType,
    digest: configRaw.digest,
    size: configRaw.bytes.length,
  };
  manifest.layers = [...manifest.layers, layerDescriptor];
  const manifestRaw = toRaw(manifest, base.manifest.mediaType);
  return { manifest: manifestRaw, config: configRaw };
}
