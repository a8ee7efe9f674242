// skopeo as the independent reader of what we push: raw manifests, and whole images copied to
// an OCI layout from which the manifest, config and the DB inside the last layer are read.
// Shared by the push-stage tests and the CLI end-to-end tests.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import tarStream from 'tar-stream';
import type { ConfigFile, ImageIndex, Manifest } from '../../lib/image/types.js';

export function skopeo(...args: string[]): string {
  return execFileSync('skopeo', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

/** `skopeo inspect --raw` of a registry reference (TLS unverified, optional user:password). */
export function inspectRaw(ref: string, creds?: string): string {
  return skopeo(
    'inspect',
    '--raw',
    '--tls-verify=false',
    ...(creds ? ['--creds', creds] : []),
    `docker://${ref}`,
  );
}

export interface LayerFile {
  name: string;
  data: Buffer;
  mode?: number;
  /** tar-stream's entry type: 'file', 'directory', … */
  type: string;
  uid: number;
  gid: number;
}

/** The entries of a gzip'd layer tar, with their modes, types and owners. */
export async function layerFiles(layerGz: Uint8Array): Promise<LayerFile[]> {
  const ex = tarStream.extract();
  const files: LayerFile[] = [];
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (h, s, next) => {
      const parts: Buffer[] = [];
      s.on('data', (c: unknown) => parts.push(c as Buffer));
      s.on('end', () => {
        files.push({
          name: h.name,
          data: Buffer.concat(parts),
          ...(h.mode === undefined ? {} : { mode: h.mode }),
          type: h.type ?? 'file',
          uid: h.uid ?? 0,
          gid: h.gid ?? 0,
        });
        next();
      });
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
  });
  ex.end(gunzipSync(layerGz));
  await done;
  return files;
}

/** skopeo copies `ref` to an OCI layout under `tmp`; returns its manifest, config and last layer. */
export function pullWithSkopeo(ref: string, tmp: string, creds?: string) {
  const dir = mkdtempSync(path.join(tmp, 'pull-'));
  skopeo(
    'copy',
    '--src-tls-verify=false',
    ...(creds ? ['--src-creds', creds] : []),
    `docker://${ref}`,
    `oci:${dir}:x`,
  );
  const index = JSON.parse(readFileSync(path.join(dir, 'index.json'), 'utf8')) as ImageIndex;
  const blob = (d: string) => readFileSync(path.join(dir, 'blobs', 'sha256', d.slice(7)));
  const manifest = JSON.parse(blob(index.manifests[0]!.digest).toString()) as Manifest;
  const config = JSON.parse(blob(manifest.config.digest).toString()) as ConfigFile;
  return { manifest, config, lastLayer: blob(manifest.layers.at(-1)!.digest) };
}
