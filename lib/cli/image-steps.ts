// The image half of a CLI build: assemble (base + DB layer → manifests in the store) and push
// (blobs, then manifests, then the tag), each recorded like a pipeline stage.
import { assembleImage } from '../stages/assemble-image.js';
import { pushImage } from '../stages/push-image.js';
import type {
  BuildIndexResult,
  BuildRequest,
  PushImageResult,
  StageDeps,
  StageName,
} from '../stages/types.js';
import type { LocalSettings } from './build-options.js';

export async function runImageStages(
  request: BuildRequest,
  local: LocalSettings,
  indexed: BuildIndexResult,
  deps: StageDeps,
  step: <T>(stage: StageName, run: () => Promise<T>) => Promise<T>,
): Promise<PushImageResult> {
  const { buildId } = request;
  const common = {
    buildId,
    ...(request.insecure ? { insecure: true } : {}),
    ...(request.maxPerRegistry ? { maxPerRegistry: request.maxPerRegistry } : {}),
  };
  const assembled = await step('assemble-image', () =>
    assembleImage(
      {
        ...common,
        dbKey: indexed.dbKey,
        indexFormat: indexed.indexFormat,
        from: request.from!,
        ...(request.filterByOs ? { filterByOs: request.filterByOs } : {}),
        ...(request.sourceDateEpoch !== undefined
          ? { sourceDateEpoch: request.sourceDateEpoch }
          : {}),
        ...(local.fromDir || local.dir ? { fromDir: local.fromDir ?? local.dir } : {}),
      },
      deps,
    ),
  );
  return step('push-image', () =>
    pushImage(
      {
        ...common,
        imageKey: assembled.imageKey,
        to: request.to!,
        ...(local.dir ? { dir: local.dir } : {}),
      },
      deps,
    ),
  );
}
