// Lambda: push the assembled image to `to`: blobs first (HEAD → mount → upload), manifests last.
import { pushImage } from '../lib/stages/push-image.js';
import { imageOptions, requireObject, requireString } from './commons/parse.js';
import { MetricUnit } from './commons/powertools.js';
import { credentialsFor } from './commons/runtime.js';
import { stageHandler } from './commons/stage-handler.js';

export const handler = stageHandler({
  stage: 'push-image',
  parse: (input) => {
    const { filterByOs: _f, sourceDateEpoch: _s, ...options } = imageOptions(input);
    return {
      buildId: requireString(input, 'buildId'),
      imageKey: requireString(requireObject(input, 'image'), 'imageKey'),
      to: requireString(input, 'to'),
      ...options,
    };
  },
  run: async (request, deps, runtime) =>
    pushImage(request, { ...deps, credentials: await credentialsFor(runtime, request) }),
  measure: (result, add) => {
    add('BlobsUploaded', MetricUnit.Count, result.blobs.uploaded);
    add('BlobsMounted', MetricUnit.Count, result.blobs.mounted);
    add('BlobsSkipped', MetricUnit.Count, result.blobs.present);
    add('BytesUploaded', MetricUnit.Bytes, result.blobs.bytesUploaded);
    add('BytesMounted', MetricUnit.Bytes, result.blobs.bytesMounted);
    add('BytesSkipped', MetricUnit.Bytes, result.blobs.bytesPresent);
  },
});
