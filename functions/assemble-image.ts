// Lambda: append the index layer to the base image (per kept platform) and store the plan.
import { assembleImage } from '../lib/stages/assemble-image.js';
import { imageOptions, parseIndexFormat, requireObject, requireString } from './commons/parse.js';
import { credentialsFor } from './commons/runtime.js';
import { stageHandler } from './commons/stage-handler.js';

export const handler = stageHandler({
  stage: 'assemble-image',
  parse: (input) => {
    const options = imageOptions(input);
    const indexFormat = parseIndexFormat(input);
    const index = requireObject(input, 'index');
    return {
      buildId: requireString(input, 'buildId'),
      // An FBC build has no database: its layer comes from the build's configs/ and cache/.
      dbKey: indexFormat === 'fbc' ? '' : requireString(index, 'dbKey'),
      ...(indexFormat ? { indexFormat } : {}),
      from: requireString(input, 'from'),
      ...options,
    };
  },
  run: async (request, deps, runtime) =>
    assembleImage(request, { ...deps, credentials: await credentialsFor(runtime, request) }),
});
