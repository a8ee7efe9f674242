// A registry client for one stage call, opened only when a location needs one (an OCI or
// file:// build never loads a keychain) and closed by whoever opened it. The keychain is the
// run's: an explicit auth config or file, the default auth files, then ECR. Shared by the
// image stages, so they need not import each other; the deps are described structurally so
// this adapter imports nothing from lib/stages.
import type { RetryOptions } from '../http/retry.js';
import type { Timeouts } from '../http/send.js';
import { EcrKeychain } from './ecr-keychain.js';
import { loadKeychain } from './keychain.js';
import { RegistryClient, type UploadProgress } from './registry-client.js';

/** What a stage's dependencies say about registries (ImageStageDeps satisfies it). */
export interface RegistryDeps {
  /** A client to use instead of opening one (not closed here). */
  registry?: RegistryClient;
  credentials?: { registryAuthFile?: string; registryAuthConfig?: unknown };
  /** Extra trusted CA certificates (PEM) for registries with a private CA. */
  caCertificates?: string[];
  /** In-process retries of registry calls (Lambda: fewer, as the state machine retries too). */
  registryRetry?: RetryOptions;
  /** Connect / headers / idle timeouts (the request's `timeouts`). */
  timeouts?: Partial<Timeouts>;
  /** Cap on manifests and configs (the request's `maxManifestBytes`). */
  maxManifestBytes?: number;
}

/** What the stage's request says. */
export interface RegistryCallOptions {
  insecure?: boolean | undefined;
  maxPerRegistry?: number | undefined;
  onProgress?: (p: UploadProgress) => void;
}

export interface RegistryClientOnDemand {
  /** The client, opened on the first call. */
  get(): Promise<RegistryClient>;
  /** Closes the client if this opened it. */
  close(): Promise<void>;
}

export function registryClientOnDemand(
  deps: RegistryDeps,
  options: RegistryCallOptions = {},
): RegistryClientOnDemand {
  let opened: Promise<RegistryClient> | undefined;
  const open = async () => {
    const keychain = await loadKeychain({
      authFile: deps.credentials?.registryAuthFile,
      authConfig: deps.credentials?.registryAuthConfig,
      fallbacks: [new EcrKeychain()],
    });
    return new RegistryClient({
      keychain,
      insecure: options.insecure ?? false,
      ...(deps.caCertificates ? { caCertificates: deps.caCertificates } : {}),
      ...(deps.registryRetry ? { retry: deps.registryRetry } : {}),
      ...(deps.timeouts ? { limits: { timeouts: deps.timeouts } } : {}),
      ...(deps.maxManifestBytes ? { maxManifestBytes: deps.maxManifestBytes } : {}),
      ...(options.maxPerRegistry ? { maxPerRegistry: options.maxPerRegistry } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
  };
  return {
    get() {
      if (deps.registry) return Promise.resolve(deps.registry);
      opened ??= open();
      return opened;
    },
    async close() {
      const c = await opened?.catch(() => undefined);
      await c?.close();
    },
  };
}
