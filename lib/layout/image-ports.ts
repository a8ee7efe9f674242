// The one factory of image ports: a parsed location (lib/image/location.ts) becomes an
// ImageSource or an ImageSink, and a plan's blob source becomes a stream of that blob. This
// is the only place that asks which kind a location is; the stages hold the ports. Adding a
// kind of location means an adapter and a case here.
import { Limiter } from '../http/limiter.js';
import type { BlobSource } from '../image/image-plan.js';
import type { ImageLocation } from '../image/location.js';
import { formatLocation } from '../image/location.js';
import {
  type ImageSink,
  type ImageSource,
  resolveDocumentBase,
  scratchSource,
} from '../image/ports.js';
import { type ImageReference, withDigest } from '../image/reference.js';
import type { RegistryClient } from '../registry/registry-client.js';
import type { Store } from '../store/store.js';
import { FileLayout } from './file-layout.js';
import { OciLayout } from './oci-layout.js';

export interface PortContext {
  /** The registry client, opened on first use (only registry locations call it). */
  registry: () => Promise<RegistryClient>;
  /** Root of `file://` locations (oc's `--dir`, `--from-dir`); default the working directory. */
  fileRoot?: string | undefined;
  /** The build's store, for blobs the plan keeps there. */
  store?: Store;
}

/** Blobs written to a directory layout at once (disk-bound; the bound keeps open files low). */
const LAYOUT_WRITES = 4;

export function openImageSource(loc: ImageLocation, ctx: PortContext): ImageSource {
  const name = formatLocation(loc);
  switch (loc.kind) {
    case 'scratch':
      return scratchSource;
    case 'registry':
      return registrySource(name, loc.ref, ctx);
    case 'oci': {
      const layout = new OciLayout(loc.dir);
      const source: ImageSource = {
        name,
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
        resolve: (filter) => resolveDocumentBase(source, filter, { kind: 'oci', dir: loc.dir }),
      };
      return source;
    }
    case 'file': {
      const dir = ctx.fileRoot ?? '.';
      const layout = new FileLayout(dir, loc.path);
      const source: ImageSource = {
        name,
        manifest: (digest) => layout.readManifest(digest ?? loc.tag),
        blob: (digest) => layout.readBlob(digest),
        resolve: (filter) =>
          resolveDocumentBase(source, filter, { kind: 'file', dir, path: loc.path }),
      };
      return source;
    }
  }
}

function registrySource(name: string, ref: ImageReference, ctx: PortContext): ImageSource {
  const source: ImageSource = {
    name,
    async manifest(digest) {
      const m = await (await ctx.registry()).getManifest(digest ? withDigest(ref, digest) : ref);
      return { bytes: m.bytes, digest: m.digest, reported: m.mediaType };
    },
    blob: async (digest, kind) => {
      const client = await ctx.registry();
      return kind === 'config'
        ? client.getConfig(ref.registry, ref.repository, digest)
        : client.getBlob(ref.registry, ref.repository, digest);
    },
    resolve: (filter) =>
      resolveDocumentBase(source, filter, {
        kind: 'registry',
        registry: ref.registry,
        repository: ref.repository,
      }),
  };
  return source;
}

/** A directory layout's putBlob: a few writes at a time; a blob already there is 'present'. */
function layoutBlobWriter(layout: {
  writeBlob(digest: string, size: number, data: () => AsyncIterable<Uint8Array>): Promise<boolean>;
}): ImageSink['putBlob'] {
  const writes = new Limiter(LAYOUT_WRITES);
  return (b, open) =>
    writes.run(async () =>
      (await layout.writeBlob(b.digest, b.size, open)) ? 'uploaded' : 'present',
    );
}

export function openImageSink(loc: ImageLocation, ctx: PortContext): ImageSink {
  const name = formatLocation(loc);
  switch (loc.kind) {
    case 'scratch':
      throw new RangeError('scratch is not a destination');
    case 'registry': {
      const ref = loc.ref;
      return {
        name,
        async putBlob(blob, open) {
          const s = blob.source;
          // A base on the same registry is mounted, not copied (the client falls back to
          // an upload when the registry declines).
          const mountFrom =
            s.kind === 'registry' && s.registry === ref.registry ? s.repository : undefined;
          return (await ctx.registry()).pushBlob(ref.registry, ref.repository, blob, {
            body: open,
            ...(mountFrom ? { mountFrom } : {}),
          });
        },
        async putManifest(m) {
          await (await ctx.registry()).putManifest(withDigest(ref, m.digest), m.bytes, m.mediaType);
        },
        async tag(top) {
          await (await ctx.registry()).putManifest(ref, top.bytes, top.mediaType);
        },
      };
    }
    case 'oci': {
      const layout = new OciLayout(loc.dir);
      return {
        name,
        putBlob: layoutBlobWriter(layout),
        async putManifest(m) {
          await layout.writeBlob(m.digest, m.bytes.length, m.bytes);
        },
        async tag(top) {
          await layout.writeBlob(top.digest, top.bytes.length, top.bytes);
          const { mediaType, digest } = top;
          await layout.setTag({ mediaType, digest, size: top.bytes.length }, loc.tag);
        },
      };
    }
    case 'file': {
      const layout = new FileLayout(ctx.fileRoot ?? '.', loc.path);
      return {
        name,
        putBlob: layoutBlobWriter(layout),
        putManifest: (m) => layout.writeManifest(m.bytes, m.digest),
        async tag(top) {
          await layout.writeManifest(top.bytes, top.digest);
          await layout.setTag(loc.tag, top.digest);
        },
      };
    }
  }
}

/**
 * A fresh stream of a blob from where the plan says it lives: the build's store, or the
 * base's registry repository, OCI layout or file:// layout.
 */
export async function openPlanBlob(
  source: BlobSource,
  digest: string,
  ctx: PortContext,
): Promise<AsyncIterable<Uint8Array>> {
  switch (source.kind) {
    case 'store':
      if (!ctx.store) throw new RangeError('reading a planned blob: no store given');
      return ctx.store.getStream(source.key);
    case 'registry':
      return (await ctx.registry()).getBlobStream(source.registry, source.repository, digest);
    case 'oci':
      return new OciLayout(source.dir).blobStream(digest);
    case 'file':
      return new FileLayout(source.dir, source.path).blobStream(digest);
  }
}
