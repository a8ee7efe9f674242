// Lambda: append the index layer to the base image (per kept platform) and store the plan.
import { assembleImage } from '../lib/stages/assemble-image.js';
import { imageOptions } from './commons/parse.js';
import { credentialsFor } from './commons/runtime.js';
import { requireObject, requireString, stageHandler } from './commons/stage-handler.js';

export const handler = stageHandler({
  stage: 'assemble-image',
  parse: (input) => {
    const options = imageOptions(input);
    return {
      buildId: requireString(input, 'buildId'),
      dbKey: requireString(requireObject(input, 'index'), 'dbKey'),
      from: requireString(input, 'from'),
      ...options,
    };
  },
  run: async (request, deps, runtime) =>
    assembleImage(request, { ...deps, credentials: await credentialsFor(runtime, request) }),
});
