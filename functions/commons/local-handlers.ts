// The real handlers, invoked in-process by the local pipeline: each function's logical id
// (as the state machine names it) maps to its handler module, loaded on first use, and is
// called with a local Lambda context, exactly the event Step Functions would send.
import { localLambdaContext } from './lambda-context.js';

type Handler = (event: unknown, context: ReturnType<typeof localLambdaContext>) => Promise<unknown>;

const MODULES: Record<string, () => Promise<{ handler: unknown }>> = {
  ListPackages: () => import('../list-packages.js'),
  FetchPackage: () => import('../fetch-package.js'),
  BuildIndex: () => import('../build-index.js'),
  AssembleImage: () => import('../assemble-image.js'),
  PushImage: () => import('../push-image.js'),
  Report: () => import('../report.js'),
};

/** Function timeouts as deployed (serverless.yml), so middy's early abort behaves the same. */
const TIMEOUT_MS: Record<string, number> = { FetchPackage: 300_000, Report: 120_000 };

export async function invokeLocalFunction(functionId: string, event: unknown): Promise<unknown> {
  const load = MODULES[functionId];
  if (!load) throw new Error(`invoking ${functionId}: no such function`);
  const { handler } = await load();
  const name = `catalog-build-${functionId}`;
  return (handler as Handler)(event, localLambdaContext(name, TIMEOUT_MS[functionId] ?? 900_000));
}
