// Assembly of the whole result from a resolved base: one appended image per selected platform
// and, when several platforms were kept, a new index in the base index's family listing them
// (same entry fields as the base, new digests). One platform gives a single image, as oc did.
// Pure: the base's documents come in, the new documents (exact bytes + digests) go out.
import { type AppendedLayer, type AppendOptions, appendLayer } from './append.js';
import { toRaw } from './digest.js';
import { platformString } from './platform.js';
import type { Descriptor, Image, ImageIndex, Platform, Raw } from './types.js';

export interface BasePlatform {
  /** The base index entry this image came from (absent for a single-manifest base). */
  descriptor?: Descriptor;
  image: Image;
}

export interface AssembledPlatform {
  /** `os/arch[/variant]`. */
  platform: string;
  base: BasePlatform;
  image: Image;
  /** The new image's descriptor as an index lists it. */
  descriptor: Descriptor;
}

export interface Assembled {
  platforms: AssembledPlatform[];
  /** Present when more than one platform was kept. */
  index?: Raw<ImageIndex>;
  /** What the tag will point at: the index, else the single manifest. */
  top: { digest: string; mediaType: string; size: number };
}

function platformOf(base: BasePlatform): Platform {
  if (base.descriptor?.platform) return base.descriptor.platform;
  const c = base.image.config.value;
  const p: Platform = {
    os: String(c.os ?? 'unknown'),
    architecture: String(c.architecture ?? 'unknown'),
  };
  if (c.variant) p.variant = String(c.variant);
  return p;
}

/**
 * Appends `layer` to every base platform image. `baseIndex` is the base manifest list / index
 * the platforms were selected from, when there was one.
 */
export function assembleImages(
  baseIndex: Raw<ImageIndex> | undefined,
  bases: BasePlatform[],
  layer: AppendedLayer,
  options: AppendOptions,
): Assembled {
  if (bases.length === 0) throw new RangeError('assembling image: no base platform');
  const platforms = bases.map((base): AssembledPlatform => {
    const image = appendLayer(base.image, layer, options);
    const platform = platformOf(base);
    const descriptor: Descriptor = {
      ...(base.descriptor ?? {}),
      mediaType: image.manifest.mediaType,
      digest: image.manifest.digest,
      size: image.manifest.bytes.length,
    };
    if (!base.descriptor) descriptor.platform = platform;
    return { platform: platformString(platform), base, image, descriptor };
  });
  if (platforms.length === 1 || !baseIndex) {
    const only = platforms[0]!;
    return {
      platforms: [only],
      top: {
        digest: only.image.manifest.digest,
        mediaType: only.image.manifest.mediaType,
        size: only.image.manifest.bytes.length,
      },
    };
  }
  const value = structuredClone(baseIndex.value);
  value.manifests = platforms.map((p) => p.descriptor);
  const index = toRaw(value, baseIndex.mediaType);
  return {
    platforms,
    index,
    top: { digest: index.digest, mediaType: index.mediaType, size: index.bytes.length },
  };
}
