// Reading a stage event: the InvalidEventError every handler throws, required fields, and the
// fields of a build request (the execution state carries the validated request plus each
// stage's result under its ResultPath). Each request field is checked by the one request
// schema (lib/stages/build-request.ts), so an event is refused with the same words as the
// API body it came from.

import { UsageError } from '../../lib/errors.js';
import type { IndexFormat } from '../../lib/index/catalog-formats.js';
import { checkRequestFields } from '../../lib/stages/build-request.js';
import type {
  AppRegistrySource,
  BuildRequest,
  DecodeLimitsRequest,
  StageDeps,
} from '../../lib/stages/types.js';

export class InvalidEventError extends UsageError {
  override name = 'InvalidEventError';
}

export function requireString(input: Record<string, unknown>, field: string): string {
  const v = input[field];
  if (typeof v !== 'string' || v === '')
    throw new InvalidEventError(`validating the event: ${field} must be a non-empty string`);
  return v;
}

export function requireObject(
  input: Record<string, unknown>,
  field: string,
): Record<string, unknown> {
  const v = input[field];
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new InvalidEventError(`validating the event: ${field} must be an object`);
  return v as Record<string, unknown>;
}

/** The given request fields of an event, checked; an InvalidEventError lists every problem. */
export function requestFields<K extends keyof BuildRequest>(
  input: Record<string, unknown>,
  keys: readonly K[],
): Pick<BuildRequest, K> {
  const problems: string[] = [];
  const out = checkRequestFields(input, keys, problems);
  if (problems.length > 0)
    throw new InvalidEventError(`validating the event: ${problems.join('; ')}`);
  return out;
}

/**
 * The request's HTTP limits (`timeouts`, `maxManifestBytes`) when the event carries them (the
 * state machine passes the whole execution state): every stage's clients use them.
 */
export function httpLimits(
  input: Record<string, unknown>,
): Pick<StageDeps, 'timeouts' | 'maxManifestBytes'> {
  return requestFields(input, ['timeouts', 'maxManifestBytes']);
}

export function parseAppRegistry(input: Record<string, unknown>): AppRegistrySource {
  const { appRegistry } = requestFields(input, ['appRegistry']);
  if (!appRegistry) throw new InvalidEventError('validating the event: appRegistry is required');
  return appRegistry;
}

/** The optional request fields the image stages use, type-checked. */
export function imageOptions(
  input: Record<string, unknown>,
): Pick<
  BuildRequest,
  'insecure' | 'registryAuthSecret' | 'maxPerRegistry' | 'filterByOs' | 'sourceDateEpoch'
> {
  return requestFields(input, [
    'insecure',
    'registryAuthSecret',
    'maxPerRegistry',
    'filterByOs',
    'sourceDateEpoch',
  ]);
}

/** The request's blob decoding caps, when it sets any. */
export function parseDecodeLimits(input: Record<string, unknown>): DecodeLimitsRequest | undefined {
  return requestFields(input, ['decodeLimits']).decodeLimits;
}

/** The request's index format, when it names one (validated as the request was). */
export function parseIndexFormat(input: Record<string, unknown>): IndexFormat | undefined {
  return requestFields(input, ['indexFormat']).indexFormat;
}
