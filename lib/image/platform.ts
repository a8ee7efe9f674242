// --filter-by-os: which entries of a base manifest list / OCI index to build on. The expression
// is matched unanchored against `os/arch[/variant]` (oc's rule; default `linux/amd64`). oc
// refused more than one match; here several matches give a multi-arch result (one appended
// image per platform and a new index), which is why selection returns a list.
import { PlatformFilterError } from './errors.js';
import type { Descriptor, ImageIndex, Platform } from './types.js';

export const DEFAULT_PLATFORM_FILTER = 'linux/amd64';

/** `os/arch` or `os/arch/variant`, as the filter sees it. */
export function platformString(p: Pick<Platform, 'os' | 'architecture' | 'variant'>): string {
  return p.variant ? `${p.os}/${p.architecture}/${p.variant}` : `${p.os}/${p.architecture}`;
}

/** Compiles the filter; an invalid expression is a usage error naming the flag. */
export function compilePlatformFilter(expression: string | undefined): RegExp {
  const source =
    expression === undefined || expression === '' ? DEFAULT_PLATFORM_FILTER : expression;
  try {
    return new RegExp(source);
  } catch (err) {
    throw new PlatformFilterError(
      `parsing --filter-by-os: not a valid regular expression: ${(err as Error).message}`,
    );
  }
}

/** The index entries whose platform matches, in index order. Entries without a platform never match. */
export function selectPlatforms(index: ImageIndex, filter: RegExp): Descriptor[] {
  if (!Array.isArray(index.manifests)) return [];
  const selected = index.manifests.filter(
    (d) =>
      d.platform !== undefined &&
      typeof d.platform.os === 'string' &&
      filter.test(platformString(d.platform)),
  );
  if (selected.length === 0) {
    const seen = index.manifests.map((d) =>
      d.platform ? platformString(d.platform) : '(no platform)',
    );
    throw new PlatformFilterError(
      `selecting platforms with --filter-by-os ${JSON.stringify(filter.source)}: filtered all images from manifest list (it has ${seen.join(', ') || 'no entries'})`,
    );
  }
  return selected;
}

/**
 * The single platform a `scratch` image is built for: the filter itself when it is a literal
 * `os/arch[/variant]`, else linux/amd64 when the filter accepts it. Kept simple on purpose:
 * a scratch image holds only the DB, so the platform is a label for runtimes, not a build choice.
 */
export function scratchPlatform(filter: RegExp): Platform {
  const literal = /^([a-z0-9]+)\/([a-z0-9_]+)(?:\/([a-z0-9]+))?$/.exec(filter.source);
  if (literal) {
    const p: Platform = { os: literal[1]!, architecture: literal[2]! };
    if (literal[3]) p.variant = literal[3];
    return p;
  }
  if (filter.test(DEFAULT_PLATFORM_FILTER)) return { os: 'linux', architecture: 'amd64' };
  throw new PlatformFilterError(
    `selecting a platform for scratch with --filter-by-os ${JSON.stringify(filter.source)}: give a literal os/arch such as linux/arm64`,
  );
}
