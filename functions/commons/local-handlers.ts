// The real handlers, invoked in-process by the local pipeline: each function's logical id
// (as the state machine names it) maps to its handler module, loaded on first use, and is
// called with a local Lambda context, exactly the event Step Functions would send.
import sizes from '../../infra/function-sizes.json' with { type: 'json' };
import { localLambdaContext } from './lambda-context.js';

type Handler = (event: unknown, context: ReturnType<typeof localLambdaContext>) => Promise<unknown>;

const MODULES: Record<string, () => Promise<{ handler: unknown }>> = {
  Preflight: () => import('../preflight.js'),
  ListPackages: () => import('../list-packages.js'),
  FetchPackage: () => import('../fetch-package.js'),
  ListBundles: () => import('../list-bundles.js'),
  FetchBundle: () => import('../fetch-bundle.js'),
  BuildIndex: () => import('../build-index.js'),
  AssembleImage: () => import('../assemble-image.js'),
  PushImage: () => import('../push-image.js'),
  Report: () => import('../report.js'),
};

/**
 * A function's timeout as deployed: serverless.yml reads the same infra/function-sizes.json,
 * so middy's early abort behaves the same here and in AWS.
 */
export function localTimeoutMs(functionId: string): number {
  const key = `${functionId.charAt(0).toLowerCase()}${functionId.slice(1)}` as keyof typeof sizes;
  const size = sizes[key];
  if (!size) throw new Error(`invoking ${functionId}: no size in infra/function-sizes.json`);
  return size.timeout * 1000;
}

export async function invokeLocalFunction(functionId: string, event: unknown): Promise<unknown> {
  const load = MODULES[functionId];
  if (!load) throw new Error(`invoking ${functionId}: no such function`);
  const { handler } = await load();
  const name = `catalog-build-${functionId}`;
  return (handler as Handler)(event, localLambdaContext(name, localTimeoutMs(functionId)));
}
