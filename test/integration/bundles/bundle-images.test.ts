// Bundle images pulled from a real docker-registry (htpasswd auth, TLS), pushed there with
// skopeo from the reference OCI layout: rendered they equal `opm render` v1.26.5's output;
// `catalog-build --bundles` builds an index from them; and the failures are named: no
// credentials, a layer whose bytes do not match its digest, an image without bundle labels,
// one missing image among good ones (the build fails in fetch-bundle although loading had begun).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBundleFormat } from '../../../lib/catalog/bundle-format.js';
import { renderBundle } from '../../../lib/catalog/render-bundle.js';
import { pullBundleImage } from '../../../lib/catalog-source/bundle-image.js';
import { sha256Digest } from '../../../lib/image/digest.js';
import { parseReference } from '../../../lib/image/reference.js';
import { openImageSource } from '../../../lib/layout/image-ports.js';
import { loadKeychain } from '../../../lib/registry/keychain.js';
import { RegistryClient } from '../../../lib/registry/registry-client.js';
import {
  BUNDLES_LAYOUT,
  BUNDLES_TITLE_NOTE,
  compareFbc,
  EXPECTED_IMAGE_HOST,
  EXPECTED_RENDER,
  HAVE_BUNDLES_CORPUS,
  readJsonObjects,
} from '../../support/bundles-corpus.js';
import { pushRandomImage } from '../../support/random-image.js';
import { type RegistryServer, startRegistry } from '../../support/registry-server.js';
import { runCli } from '../../support/run-cli.js';
import { skopeo } from '../../support/skopeo.js';

/** Bundles covering CRD-less (loads under v1.8.0 rules), properties.yaml, multi-document files. */
const TAGS = [
  'cert-utils-operator-bundle:0.0.1',
  'cert-utils-operator-bundle:1.0.0',
  'cert-utils-operator-bundle:1.3.12',
  'community-trivy-operator-bundle:2.1.1',
  'dbaas-operator-bundle:0.5.0',
  'kubedb-installer-bundle:2026.2.26',
];

let reg: RegistryServer;
let tmp: string;
let creds: string;
let authFile: string;
const refs: string[] = [];

describe.skipIf(!HAVE_BUNDLES_CORPUS)(`bundle images in a registry${BUNDLES_TITLE_NOTE}`, () => {
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'bundle-images-'));
    reg = await startRegistry({ auth: 'htpasswd', tls: true });
    creds = `${reg.username}:${reg.password}`;
    authFile = reg.authFile();
    const tags = new Set(
      (
        JSON.parse(readFileSync(path.join(BUNDLES_LAYOUT, 'index.json'), 'utf8')) as {
          manifests: { annotations: Record<string, string> }[];
        }
      ).manifests.map((m) => m.annotations['org.opencontainers.image.ref.name']),
    );
    for (const tag of TAGS) {
      expect(tags.has(tag)).toBe(true);
      skopeo(
        'copy',
        '--dest-tls-verify=false',
        '--dest-creds',
        creds,
        `oci:${BUNDLES_LAYOUT}:${tag}`,
        `docker://${reg.host}/${tag}`,
      );
      refs.push(`${reg.host}/${tag}`);
    }
  }, 120_000);

  afterAll(async () => {
    await reg?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('renders each pulled bundle as opm render v1.26.5 did', async () => {
    const client = new RegistryClient({
      keychain: await loadKeychain({ authFile }),
      insecure: true,
    });
    try {
      let ours = '';
      for (const ref of refs) {
        const source = openImageSource(
          { kind: 'registry', ref: parseReference(ref) },
          { registry: async () => client },
        );
        const image = await pullBundleImage(source, ref);
        ours += `${JSON.stringify(renderBundle(parseBundleFormat(image.files, ref), ref), null, 4)}\n`;
      }
      const wanted = new Set(TAGS.map((t) => EXPECTED_IMAGE_HOST + t));
      const expected = readJsonObjects(EXPECTED_RENDER).filter((o) =>
        wanted.has(o.image as string),
      );
      expect(expected).toHaveLength(TAGS.length);
      writeFileSync(
        path.join(tmp, 'expected.json'),
        expected.map((o) => JSON.stringify(o)).join('\n'),
      );
      writeFileSync(path.join(tmp, 'ours.json'), ours);
      const verdict = await compareFbc(
        path.join(tmp, 'expected.json'),
        path.join(tmp, 'ours.json'),
        ['--map-image', `${EXPECTED_IMAGE_HOST}=${reg.host}/`],
      );
      expect(verdict.output).toMatch(/olm.bundle +6 +6 +0 +0 +0 +ok/);
      expect(verdict.code).toBe(0);
    } finally {
      await client.close();
    }
  }, 60_000);

  it('catalog-build --bundles builds the index from the images (v1.8.0 rules for sqlite-v7)', async () => {
    const list = path.join(tmp, 'bundles.txt');
    writeFileSync(list, `# cert-utils\n${refs.slice(1, 3).join('\n')}\n\n`);
    const db = path.join(tmp, 'bundles.db');
    const run = await runCli([
      '--bundles',
      refs[0]!,
      '--bundles-file',
      list,
      '-a',
      authFile,
      '--insecure',
      '--to-db',
      db,
      '--store',
      path.join(tmp, 'store'),
    ]);
    expect(run.stderr).toContain('pulling 3 bundle images');
    expect(run.code).toBe(0);
    const rows = execFileSync(
      'sqlite3',
      [
        db,
        'SELECT name, bundlepath FROM operatorbundle ORDER BY name; SELECT name, default_channel FROM package; SELECT name, head_operatorbundle_name FROM channel;',
      ],
      { encoding: 'utf8' },
    );
    expect(rows.trim().split('\n')).toEqual([
      `cert-utils-operator.v0.0.1|${refs[0]}`,
      `cert-utils-operator.v1.0.0|${refs[1]}`,
      `cert-utils-operator.v1.3.12|${refs[2]}`,
      'cert-utils-operator|alpha',
      'alpha|cert-utils-operator.v1.3.12',
    ]);
  }, 120_000);

  it('a failed pull among good ones fails the build in fetch-bundle, naming it, with no output', async () => {
    // The load of the first bundles overlaps the pulls; the missing tag comes last, so the load
    // is under way (or done with the rest) when the pull fails.
    const missing = `${reg.host}/cert-utils-operator-bundle:no-such-tag`;
    const out = path.join(tmp, 'failed-fbc');
    const store = path.join(tmp, 'store-failed');
    const run = await runCli([
      '--bundles',
      [...refs.slice(0, 3), missing].join(','),
      '-a',
      authFile,
      '--insecure',
      '--index-format',
      'fbc',
      '--to-fbc',
      out,
      '--store',
      store,
      '--build-id',
      'failed-pull',
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`pulling bundle images: 1 of 4 failed: ${missing}: `);
    expect(readdirSync(tmp)).not.toContain('failed-fbc');
    const report = JSON.parse(
      readFileSync(path.join(store, 'builds', 'failed-pull', 'report.json'), 'utf8'),
    ) as { outcome: string; failure: { stage: string; name: string } };
    expect(report.outcome).toBe('failed');
    expect(report.failure).toMatchObject({
      stage: 'fetch-bundle',
      name: 'BundleImagesFailedError',
    });
  }, 120_000);

  it('a build request with bundles runs through the state machine (catalog-build pipeline)', async () => {
    // The pipeline resolves registry credentials by secret name; this test registry's
    // credentials come from the environment's auth file (REGISTRY_AUTH_FILE), as in a local run.
    const request = path.join(tmp, 'bundles-request.json');
    writeFileSync(
      request,
      JSON.stringify({
        buildId: 'pipeline-bundles',
        bundles: refs.slice(0, 3),
        insecure: true,
        indexFormat: 'fbc',
      }),
    );
    const storeDir = path.join(tmp, 'store-pipeline');
    const run = await runCli(['pipeline', '--request', request, '--store', storeDir], {
      REGISTRY_AUTH_FILE: authFile,
    });
    expect(run.code).toBe(0);
    const outcome = JSON.parse(run.stdout) as { status: string };
    expect(outcome.status).toBe('SUCCEEDED');
    const report = JSON.parse(
      readFileSync(path.join(storeDir, 'builds', 'pipeline-bundles', 'report.json'), 'utf8'),
    ) as { bundles: { source: string; outcome: string }[]; index: { format: string } };
    expect(report.index.format).toBe('fbc');
    expect(report.bundles.map((b) => [b.source, b.outcome])).toEqual([
      [refs[0], 'not in a channel'],
      [refs[1], 'not in a channel'],
      [refs[2], 'loaded'],
    ]);
    const catalog = readFileSync(
      path.join(
        storeDir,
        'builds',
        'pipeline-bundles',
        'configs',
        'cert-utils-operator',
        'catalog.json',
      ),
      'utf8',
    );
    expect(catalog).toContain(`"image": "${refs[2]}"`);
  }, 120_000);

  it('without credentials the pull fails with a named error naming the bundle', async () => {
    const run = await runCli(
      [
        '--bundles',
        refs[0]!,
        '--insecure',
        '--to-db',
        path.join(tmp, 'noauth.db'),
        '--store',
        path.join(tmp, 'store-noauth'),
      ],
      {
        DOCKER_CONFIG: path.join(tmp, 'no-docker-config'),
        REGISTRY_AUTH_FILE: path.join(tmp, 'none.json'),
        XDG_RUNTIME_DIR: tmp,
        HOME: tmp,
      },
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `pulling bundle images: 1 of 1 failed: ${refs[0]}: RegistryAuthError`,
    );
    expect(run.stderr).not.toContain(reg.password!);
  }, 60_000);

  it('a layer whose bytes do not match its digest is refused', async () => {
    const tag = TAGS[5]!;
    const manifest = JSON.parse(
      skopeo(
        'inspect',
        '--raw',
        '--tls-verify=false',
        '--creds',
        creds,
        `docker://${reg.host}/${tag}`,
      ),
    ) as { layers: { digest: string }[] };
    const hex = manifest.layers[0]!.digest.slice(7);
    const data = path.join(
      reg.dataDir,
      'docker',
      'registry',
      'v2',
      'blobs',
      'sha256',
      hex.slice(0, 2),
      hex,
      'data',
    );
    const bytes = readFileSync(data);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0xff;
    writeFileSync(data, bytes);
    const run = await runCli([
      '--bundles',
      `${reg.host}/${tag}`,
      '-a',
      authFile,
      '--insecure',
      '--to-db',
      path.join(tmp, 'corrupt.db'),
      '--store',
      path.join(tmp, 'store-corrupt'),
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${reg.host}/${tag}: RegistryDigestMismatchError`);
    expect(readdirSync(tmp)).not.toContain('corrupt.db');
  }, 60_000);

  it('an image without bundle labels is not a bundle: named error', async () => {
    const img = await pushRandomImage(
      { host: reg.host, repository: 'plain/app', tag: 'v1' },
      authFile,
    );
    expect(sha256Digest(img.image.manifest.bytes)).toBe(img.image.manifest.digest);
    const run = await runCli([
      '--bundles',
      `${reg.host}/plain/app:v1`,
      '-a',
      authFile,
      '--insecure',
      '--to-db',
      path.join(tmp, 'plain.db'),
      '--store',
      path.join(tmp, 'store-plain'),
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `${reg.host}/plain/app:v1: BundleImageLabelsError: reading bundle image ${reg.host}/plain/app:v1: not a bundle image, no operators.operatorframework.io.bundle.package.v1 label`,
    );
  }, 60_000);
});
