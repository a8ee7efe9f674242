// Amazon ECR credentials obtained in-process (Lambda cannot run docker-credential-ecr-login):
// GetAuthorizationToken returns base64 "AWS:<password>", used as Basic credentials. Tokens last
// 12 hours, so they are fetched once per run per registry, kept in memory only, and dropped
// when the registry answers 401 (the client then asks again). The client endpoint is
// injectable so tests reach a fake of ECR's JSON API through the real SDK.

import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { registerSecret } from '../redact.js';
import { type Credential, decodeUserPassword, type Keychain } from './keychain.js';
import { RegistryAuthError } from './registry-errors.js';

/** `<account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]` → region, or undefined. */
export function ecrRegion(registry: string): string | undefined {
  const host = registry.toLowerCase().replace(/:\d+$/, '');
  const m = /^\d{12}\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/.exec(host);
  return m?.[1];
}

export interface EcrKeychainOptions {
  /** ECR API endpoint override (tests, VPC endpoints). */
  endpoint?: string;
  /** Region when the registry host does not tell (non-ECR hosts accepted by `matches`). */
  region?: string;
  /** Which registries this keychain answers for; default: ECR host names. */
  matches?: (registry: string) => boolean;
  /** A ready client (overrides endpoint/region), e.g. with custom credentials. */
  client?: ECRClient;
}

export class EcrKeychain implements Keychain {
  private readonly tokens = new Map<string, Promise<Credential>>();
  private readonly clients = new Map<string, ECRClient>();
  /** Number of GetAuthorizationToken calls made (observability and tests). */
  calls = 0;

  constructor(private readonly options: EcrKeychainOptions = {}) {}

  async resolve(registry: string): Promise<Credential | undefined> {
    const matches = this.options.matches ?? ((r: string) => ecrRegion(r) !== undefined);
    if (!matches(registry)) return undefined;
    let pending = this.tokens.get(registry);
    if (!pending) {
      pending = this.fetch(registry);
      this.tokens.set(registry, pending);
      pending.catch(() => this.tokens.delete(registry));
    }
    return pending;
  }

  invalidate(registry: string): void {
    this.tokens.delete(registry);
  }

  private client(region: string): ECRClient {
    if (this.options.client) return this.options.client;
    let c = this.clients.get(region);
    if (!c) {
      c = new ECRClient({
        region,
        ...(this.options.endpoint ? { endpoint: this.options.endpoint } : {}),
      });
      this.clients.set(region, c);
    }
    return c;
  }

  private async fetch(registry: string): Promise<Credential> {
    const region =
      ecrRegion(registry) ?? this.options.region ?? process.env.AWS_REGION ?? 'us-east-1';
    this.calls++;
    let token: string | undefined;
    try {
      const out = await this.client(region).send(new GetAuthorizationTokenCommand({}));
      token = out.authorizationData?.[0]?.authorizationToken;
    } catch (err) {
      const name = (err as Error).name ?? 'Error';
      throw new RegistryAuthError(`getting ECR authorization token for ${registry}: ${name}`, {
        cause: err,
      });
    }
    if (!token)
      throw new RegistryAuthError(`getting ECR authorization token for ${registry}: empty answer`);
    const pair = decodeUserPassword(token);
    if (!pair)
      throw new RegistryAuthError(
        `getting ECR authorization token for ${registry}: malformed token`,
      );
    registerSecret(token);
    registerSecret(pair.password, pair.username);
    return pair;
  }
}
