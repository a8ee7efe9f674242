// Stage assemble-image: resolve the base (`--from`: registry, `oci:` layout, `file://`, or
// scratch), keep the platforms --filter-by-os selects, build the DB layer from the store, and
// append it to each platform image. Our new blobs (layer, configs, manifests, index) go to the
// store under blobs/sha256/<hex>; base layers stay where they are and the plan
// (`builds/<id>/image.json`) records where push finds each one, so base bytes are read only if
// the destination cannot mount them. Returns small JSON (digests), never bytes.

import type { RetryOptions } from '../http/retry.js';
import { formatCreated } from '../image/append.js';
import { type Assembled, assembleImages, type BasePlatform } from '../image/assemble.js';
import { parseRaw } from '../image/digest.js';
import { MalformedImageError } from '../image/errors.js';
import type { BlobSource, ImagePlan, PlanBlob, PlanManifest } from '../image/image-plan.js';
import { buildLayer, layerStream } from '../image/layer.js';
import { formatLocation, type ImageLocation, parseSourceLocation } from '../image/location.js';
import { detectManifestType, familyOf, isIndexType } from '../image/media-types.js';
import { compilePlatformFilter, scratchPlatform, selectPlatforms } from '../image/platform.js';
import { withDigest } from '../image/reference.js';
import { scratchImage } from '../image/scratch.js';
import type { ConfigFile, Descriptor, Image, ImageIndex, Manifest, Raw } from '../image/types.js';
import { EcrKeychain } from '../registry/ecr-keychain.js';
import { FileLayout } from '../registry/file-destination.js';
import { loadKeychain } from '../registry/keychain.js';
import { OciLayout } from '../registry/oci-layout.js';
import { RegistryClient, type UploadProgress } from '../registry/registry-client.js';
import { blobKey, buildKeys } from '../store/keys.js';
import { putJson, StoreNotFoundError } from '../store/store.js';
import type { AssembleImageRequest, AssembleImageResult, StageDeps } from './types.js';

/** Extra dependencies of the image stages (all optional). */
export interface ImageStageDeps extends StageDeps {
  /** A registry client to use (the CLI shares one per run); else one is made per call and closed. */
  registry?: RegistryClient;
  /** Extra trusted CA certificates (PEM) for registries with a private CA. */
  caCertificates?: string[];
  /** In-process retries of registry calls (Lambda: fewer, as the state machine retries too). */
  registryRetry?: RetryOptions;
}

/** A registry client for a stage call: the injected one, or a new one the caller must close. */
export async function openRegistryClient(
  deps: ImageStageDeps,
  options: {
    insecure?: boolean;
    maxPerRegistry?: number;
    onProgress?: (p: UploadProgress) => void;
  },
): Promise<{ client: RegistryClient; owned: boolean }> {
  if (deps.registry) return { client: deps.registry, owned: false };
  const keychain = await loadKeychain({
    authFile: deps.credentials?.registryAuthFile,
    authConfig: deps.credentials?.registryAuthConfig,
    fallbacks: [new EcrKeychain()],
  });
  const client = new RegistryClient({
    keychain,
    insecure: options.insecure ?? false,
    ...(deps.caCertificates ? { caCertificates: deps.caCertificates } : {}),
    ...(deps.registryRetry ? { retry: deps.registryRetry } : {}),
    ...(options.maxPerRegistry ? { maxPerRegistry: options.maxPerRegistry } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  return { client, owned: true };
}

/** Reads manifests and blobs of the base, whatever kind of location it is. */
interface BaseReader {
  /** The document `--from` names (tag) or a child by digest: bytes, digest and reported type. */
  manifest(digest?: string): Promise<{ bytes: Uint8Array; digest: string; reported?: string }>;
  blob(digest: string): Promise<Uint8Array>;
  source: BlobSource;
}

function baseReader(loc: ImageLocation, client: () => RegistryClient, fromDir: string): BaseReader {
  switch (loc.kind) {
    case 'registry': {
      const ref = loc.ref;
      return {
        async manifest(digest) {
          const m = await client().getManifest(digest ? withDigest(ref, digest) : ref);
          return { bytes: m.bytes, digest: m.digest, reported: m.mediaType };
        },
        blob: (digest) => client().getBlob(ref.registry, ref.repository, digest),
        source: { kind: 'registry', registry: ref.registry, repository: ref.repository },
      };
    }
    case 'oci': {
      const layout = new OciLayout(loc.dir);
      return {
        async manifest(digest) {
          if (digest) return { bytes: await layout.readBlob(digest), digest };
          const d = await layout.resolve(loc.tag);
          return {
            bytes: await layout.readBlob(d.digest),
            digest: d.digest,
            reported: d.mediaType,
          };
        },
        blob: (digest) => layout.readBlob(digest),
        source: { kind: 'oci', dir: loc.dir },
      };
    }
    case 'file': {
      const layout = new FileLayout(fromDir, loc.path);
      return {
        manifest: (digest) => layout.readManifest(digest ?? loc.tag),
        blob: (digest) => layout.readBlob(digest),
        source: { kind: 'file', dir: fromDir, path: loc.path },
      };
    }
    case 'scratch':
      throw new RangeError('scratch has no reader');
  }
}

async function readImage(
  reader: BaseReader,
  what: string,
  top: { bytes: Uint8Array; digest: string; reported?: string },
): Promise<Image> {
  const doc = parseRaw<Manifest>(top.bytes, 'application/json', `manifest ${what}`);
  const mediaType = detectManifestType(doc.value, top.reported);
  familyOf(mediaType);
  if (!doc.value.config?.digest || !Array.isArray(doc.value.layers)) {
    throw new MalformedImageError(`reading manifest ${what}: no config or layers`);
  }
  const configBytes = await reader.blob(doc.value.config.digest);
  const config = parseRaw<ConfigFile>(configBytes, doc.value.config.mediaType, `config of ${what}`);
  return { manifest: { ...doc, mediaType }, config };
}

interface ResolvedBase {
  index?: Raw<ImageIndex>;
  bases: BasePlatform[];
  source?: BlobSource;
  baseDigest?: string;
}

async function resolveBase(
  loc: ImageLocation,
  filterSource: string | undefined,
  reader: BaseReader | undefined,
): Promise<ResolvedBase> {
  const filter = compilePlatformFilter(filterSource);
  if (loc.kind === 'scratch' || !reader)
    return { bases: [{ image: scratchImage(scratchPlatform(filter)) }] };
  const from = formatLocation(loc);
  const top = await reader.manifest();
  const doc = parseRaw<ImageIndex | Manifest>(top.bytes, 'application/json', `manifest ${from}`);
  const mediaType = detectManifestType(doc.value, top.reported);
  if (!isIndexType(mediaType)) {
    return {
      bases: [{ image: await readImage(reader, from, top) }],
      source: reader.source,
      baseDigest: top.digest,
    };
  }
  familyOf(mediaType);
  const index: Raw<ImageIndex> = { ...(doc as Raw<ImageIndex>), mediaType };
  const selected = selectPlatforms(index.value, filter);
  const bases = await Promise.all(
    selected.map(async (d: Descriptor) => {
      if (isIndexType(d.mediaType))
        throw new MalformedImageError(
          `reading manifest list ${from}: nested index ${d.digest} is not supported`,
        );
      const child = await reader.manifest(d.digest);
      return {
        descriptor: d,
        image: await readImage(reader, `${from}@${d.digest}`, { ...child, reported: d.mediaType }),
      };
    }),
  );
  return { index, bases, source: reader.source, baseDigest: top.digest };
}

export async function assembleImage(
  request: AssembleImageRequest,
  deps: ImageStageDeps,
): Promise<AssembleImageResult> {
  const keys = buildKeys(request.buildId);
  const loc = parseSourceLocation(request.from);
  let opened: { client: RegistryClient; owned: boolean } | undefined;
  const client = () => {
    if (!opened) throw new RangeError('registry client not opened');
    return opened.client;
  };
  try {
    if (loc.kind === 'registry')
      opened = await openRegistryClient(deps, {
        insecure: request.insecure,
        maxPerRegistry: request.maxPerRegistry,
      });
    const reader =
      loc.kind === 'scratch' ? undefined : baseReader(loc, client, request.fromDir ?? '.');
    deps.progress?.({
      kind: 'info',
      message: `using ${formatLocation(loc)} as a base image for building`,
    });
    const base = await resolveBase(loc, request.filterByOs, reader);

    const dbInfo = await deps.store.head(request.dbKey);
    if (!dbInfo)
      throw new StoreNotFoundError(
        `reading ${request.dbKey} from ${deps.store.location}: no such object`,
      );
    const epoch = request.sourceDateEpoch;
    const layer = await buildLayer(
      { size: dbInfo.size, data: await deps.store.getStream(request.dbKey) },
      { mtime: epoch ?? 0 },
    );
    const created = formatCreated(
      epoch ?? Math.floor((deps.now?.() ?? new Date()).getTime() / 1000),
    );
    const assembled = assembleImages(base.index, base.bases, layer, { created });

    await deps.store.putStream(blobKey(layer.digest), layerStream(layer), { ifNoneMatch: true });
    const plan = await writePlan(request, deps, loc, base, assembled, layer, created);
    await putJson(deps.store, keys.image, plan);
    deps.log.info('assembled image', {
      buildId: request.buildId,
      from: formatLocation(loc),
      digest: plan.top.digest,
      platforms: assembled.platforms.map((p) => p.platform),
      layerDigest: layer.digest,
      layerSize: layer.size,
    });
    return {
      buildId: request.buildId,
      imageKey: keys.image,
      digest: plan.top.digest,
      mediaType: plan.top.mediaType,
      platforms: assembled.platforms.map((p) => ({
        platform: p.platform,
        manifestDigest: p.image.manifest.digest,
        configDigest: p.image.config.digest,
        layerDigest: layer.digest,
      })),
    };
  } finally {
    if (opened?.owned) await opened.client.close();
  }
}

async function writePlan(
  request: AssembleImageRequest,
  deps: ImageStageDeps,
  loc: ImageLocation,
  base: ResolvedBase,
  assembled: Assembled,
  layer: { digest: string; size: number },
  created: string,
): Promise<ImagePlan> {
  const blobs = new Map<string, PlanBlob>();
  const manifests: PlanManifest[] = [];
  const putDoc = async (raw: Raw<unknown>) => {
    const key = blobKey(raw.digest);
    await deps.store.put(key, raw.bytes, { contentType: raw.mediaType, ifNoneMatch: true });
    return key;
  };
  for (const p of assembled.platforms) {
    const m = p.image.manifest.value;
    const baseLayers = new Set(p.base.image.manifest.value.layers.map((l) => l.digest));
    await putDoc(p.image.config);
    blobs.set(p.image.config.digest, {
      digest: p.image.config.digest,
      size: p.image.config.bytes.length,
      mediaType: p.image.config.mediaType,
      source: { kind: 'store', key: blobKey(p.image.config.digest) },
    });
    for (const l of m.layers) {
      if (blobs.has(l.digest)) continue;
      const fromBase = baseLayers.has(l.digest) && base.source;
      blobs.set(l.digest, {
        digest: l.digest,
        size: l.size,
        mediaType: l.mediaType,
        source: fromBase ? base.source! : { kind: 'store', key: blobKey(layer.digest) },
      });
    }
    manifests.push({
      digest: p.image.manifest.digest,
      size: p.image.manifest.bytes.length,
      mediaType: p.image.manifest.mediaType,
      key: await putDoc(p.image.manifest),
      platform: p.platform,
      blobs: [m.config.digest, ...m.layers.map((l) => l.digest)],
    });
  }
  const plan: ImagePlan = {
    version: 1,
    buildId: request.buildId,
    from: formatLocation(loc),
    ...(base.baseDigest ? { baseDigest: base.baseDigest } : {}),
    created,
    manifests,
    top: assembled.top,
    blobs: [...blobs.values()],
  };
  if (assembled.index) {
    plan.index = {
      digest: assembled.index.digest,
      size: assembled.index.bytes.length,
      mediaType: assembled.index.mediaType,
      key: await putDoc(assembled.index),
    };
  }
  return plan;
}
