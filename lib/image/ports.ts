// The two image ports every stage talks to, whatever a location names: an `ImageSource`
// (a registry repository, an OCI layout, oc's `file://` layout, or scratch) and an
// `ImageSink` (a registry, an OCI layout, a `file://` layout). The adapters implement them
// and one factory (lib/layout/image-ports.ts) picks the implementation for a parsed
// location, so a new kind of location is one new adapter and one line in the factory — the
// stages never ask which kind they hold. Pure: types plus the one way a base is resolved
// from manifests, shared by every document-backed source.
import type { BasePlatform } from './assemble.js';
import { parseRaw } from './digest.js';
import { MalformedImageError } from './errors.js';
import type { BlobSource, PlanBlob } from './image-plan.js';
import { detectManifestType, familyOf, isIndexType } from './media-types.js';
import { compilePlatformFilter, scratchPlatform, selectPlatforms } from './platform.js';
import { scratchImage } from './scratch.js';
import type { ConfigFile, Descriptor, Image, ImageIndex, Manifest, Raw } from './types.js';

/** A manifest or index as read: exact bytes, their digest and the type the source reported. */
export interface SourceDocument {
  bytes: Uint8Array;
  digest: string;
  reported?: string;
}

/** The base to build on: one image per kept platform, and the index they came from. */
export interface ResolvedBase {
  index?: Raw<ImageIndex>;
  bases: BasePlatform[];
  /** Where push finds the base's blobs again (absent for scratch). */
  source?: BlobSource;
  /** Digest of the document that was read (index or manifest). */
  baseDigest?: string;
}

/** Where an image is read from. */
export interface ImageSource {
  /** The location as a user would type it, for messages. */
  readonly name: string;
  /** The document the location names (no digest) or one of its children by digest. */
  manifest(digest?: string): Promise<SourceDocument>;
  /**
   * A blob, verified against its digest. `'config'`: an image config, read under the cap on
   * documents (a registry's `--max-manifest-size`), not the whole-blob one.
   */
  blob(digest: string, kind?: 'config'): Promise<Uint8Array>;
  /** The images to build on, one per platform `filter` (os/arch regex) keeps. */
  resolve(filter: string | undefined): Promise<ResolvedBase>;
}

export type BlobOutcome = 'present' | 'mounted' | 'uploaded';

/** A manifest or index to write, with its exact bytes. */
export interface ManifestBytes {
  digest: string;
  mediaType: string;
  bytes: Uint8Array;
}

/** Where an image is written. Blobs first, then manifests, the tag last. */
export interface ImageSink {
  readonly name: string;
  /**
   * Writes one blob unless the destination has it; `open` gives a fresh stream of its bytes
   * (called again when a transfer restarts). The blob's plan source lets a sink on the same
   * registry mount instead of copying.
   */
  putBlob(blob: PlanBlob, open: () => AsyncIterable<Uint8Array>): Promise<BlobOutcome>;
  /** Writes a manifest by digest, untagged (per-platform manifests under an index). */
  putManifest(manifest: ManifestBytes): Promise<void>;
  /** Writes the top manifest and points the tag at it — only once everything else is there. */
  tag(top: ManifestBytes): Promise<void>;
}

/** Reads one image (manifest + config) of a document-backed source. */
async function readImage(source: ImageSource, what: string, top: SourceDocument): Promise<Image> {
  const doc = parseRaw<Manifest>(top.bytes, 'application/json', `manifest ${what}`);
  const mediaType = detectManifestType(doc.value, top.reported);
  familyOf(mediaType);
  if (!doc.value.config?.digest || !Array.isArray(doc.value.layers)) {
    throw new MalformedImageError(`reading manifest ${what}: no config or layers`);
  }
  const configBytes = await source.blob(doc.value.config.digest, 'config');
  const config = parseRaw<ConfigFile>(configBytes, doc.value.config.mediaType, `config of ${what}`);
  return { manifest: { ...doc, mediaType }, config };
}

/**
 * The base behind a document-backed source: its single manifest, or the platforms of its
 * index that `filter` keeps (nested indexes refused).
 */
export async function resolveDocumentBase(
  source: ImageSource,
  filterSource: string | undefined,
  blobSource: BlobSource,
): Promise<ResolvedBase> {
  const filter = compilePlatformFilter(filterSource);
  const from = source.name;
  const top = await source.manifest();
  const doc = parseRaw<ImageIndex | Manifest>(top.bytes, 'application/json', `manifest ${from}`);
  const mediaType = detectManifestType(doc.value, top.reported);
  if (!isIndexType(mediaType)) {
    return {
      bases: [{ image: await readImage(source, from, top) }],
      source: blobSource,
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
      const child = await source.manifest(d.digest);
      return {
        descriptor: d,
        image: await readImage(source, `${from}@${d.digest}`, { ...child, reported: d.mediaType }),
      };
    }),
  );
  return { index, bases, source: blobSource, baseDigest: top.digest };
}

/** `--from scratch`: no documents, no blobs; one empty image for the platform the filter names. */
export const scratchSource: ImageSource = {
  name: 'scratch',
  manifest: () =>
    Promise.reject(new MalformedImageError('reading manifest scratch: scratch has none')),
  blob: (digest) =>
    Promise.reject(new MalformedImageError(`reading blob ${digest} of scratch: scratch has none`)),
  resolve: async (filter) => ({
    bases: [{ image: scratchImage(scratchPlatform(compilePlatformFilter(filter))) }],
  }),
};
