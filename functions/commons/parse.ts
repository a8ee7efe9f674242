// Reading the fields of a build request out of a stage event (the execution state carries
// the validated request plus each stage's result under its ResultPath).
import type { IndexFormat } from '../../lib/index/catalog-formats.js';
import { decodeLimitsOf, indexFormatOf } from '../../lib/stages/build-request.js';
import type {
  AppRegistrySource,
  BuildRequest,
  DecodeLimitsRequest,
} from '../../lib/stages/types.js';
import { InvalidEventError, requireObject, requireString } from './stage-handler.js';

export function parseAppRegistry(input: Record<string, unknown>): AppRegistrySource {
  const a = requireObject(input, 'appRegistry');
  const out: AppRegistrySource = {
    endpoint: requireString(a, 'endpoint'),
    org: requireString(a, 'org'),
  };
  if (a.authTokenSecret !== undefined) out.authTokenSecret = requireString(a, 'authTokenSecret');
  return out;
}

/** The optional request fields the image stages use, type-checked. */
export function imageOptions(
  input: Record<string, unknown>,
): Pick<
  BuildRequest,
  'insecure' | 'registryAuthSecret' | 'maxPerRegistry' | 'filterByOs' | 'sourceDateEpoch'
> {
  const out: ReturnType<typeof imageOptions> = {};
  if (input.insecure !== undefined) {
    if (typeof input.insecure !== 'boolean')
      throw new InvalidEventError('validating the event: insecure must be a boolean');
    out.insecure = input.insecure;
  }
  if (input.registryAuthSecret !== undefined)
    out.registryAuthSecret = requireString(input, 'registryAuthSecret');
  if (input.filterByOs !== undefined) out.filterByOs = requireString(input, 'filterByOs');
  for (const field of ['maxPerRegistry', 'sourceDateEpoch'] as const) {
    if (input[field] === undefined) continue;
    if (!Number.isInteger(input[field]))
      throw new InvalidEventError(`validating the event: ${field} must be an integer`);
    out[field] = input[field] as number;
  }
  return out;
}

/** The request's blob decoding caps, when it sets any. */
export function parseDecodeLimits(input: Record<string, unknown>): DecodeLimitsRequest | undefined {
  const problems: string[] = [];
  const limits = decodeLimitsOf(input.decodeLimits, problems);
  if (problems.length > 0)
    throw new InvalidEventError(`validating the event: ${problems.join('; ')}`);
  return limits;
}

/** The request's index format, when it names one (validated as the request was). */
export function parseIndexFormat(input: Record<string, unknown>): IndexFormat | undefined {
  const problems: string[] = [];
  const format = indexFormatOf(input.indexFormat, problems);
  if (problems.length > 0)
    throw new InvalidEventError(`validating the event: ${problems.join('; ')}`);
  return format;
}
