// Fail fast, the stage: what a build will need at its end is checked before its first
// download, so a request that cannot succeed fails in seconds instead of after every package
// was fetched and the index built. One check for both doors: the CLI runs it after its flag
// and local-file checks (lib/cli/preflight.ts), the state machine as its first state
// (functions/preflight.ts, which first reads the secrets the request names).
// With a destination: the destination registry answers the v2 API (plain HTTP vs TLS is
// said with the --insecure hint by the transport), our credentials are accepted and, where
// the registry can tell without a push (a token server's JWT), carry push scope; and the
// base image resolves to a platform filterByOs keeps. Nothing is written anywhere. Each
// problem is the named error the later stage would have thrown, so Retry/Catch treat it the
// same way: a registry that is down is temporary, a missing tag or scope is not.
import { parseDestinationLocation, parseSourceLocation } from '../image/location.js';
import { platformString } from '../image/platform.js';
import { openImageSource } from '../layout/image-ports.js';
import { registryClientOnDemand } from '../registry/open-client.js';
import type { ImageStageDeps, PreflightRequest, PreflightResult } from './types.js';

export async function preflight(
  request: PreflightRequest,
  deps: ImageStageDeps,
): Promise<PreflightResult> {
  const checks: string[] = [];
  if (!request.to || !request.from) return { buildId: request.buildId, checks };
  const registry = registryClientOnDemand(deps, {
    ...(request.insecure ? { insecure: true } : {}),
    ...(request.maxPerRegistry ? { maxPerRegistry: request.maxPerRegistry } : {}),
  });
  try {
    const to = parseDestinationLocation(request.to);
    if (to.kind === 'registry') {
      const access = await (await registry.get()).checkPushAccess(to.ref);
      checks.push(
        `destination ${to.ref.registry}/${to.ref.repository}: ${
          access === 'open'
            ? 'answers, asks for no credentials'
            : access === 'push granted'
              ? 'credentials accepted, push scope granted'
              : 'credentials accepted (push scope shows only at the push)'
        }`,
      );
    }
    const from = parseSourceLocation(request.from);
    if (from.kind !== 'scratch') {
      const source = openImageSource(from, {
        registry: registry.get,
        ...(request.fromDir ? { fileRoot: request.fromDir } : {}),
      });
      const base = await source.resolve(request.filterByOs);
      const platforms = base.bases.map((b) => {
        const c = b.image.config.value;
        return platformString({
          os: c.os ?? '?',
          architecture: c.architecture ?? '?',
          ...(c.variant ? { variant: c.variant } : {}),
        });
      });
      checks.push(
        `base ${source.name}${base.baseDigest ? `@${base.baseDigest}` : ''}: ${platforms.join(', ')}`,
      );
    }
  } finally {
    await registry.close();
  }
  return { buildId: request.buildId, checks };
}
