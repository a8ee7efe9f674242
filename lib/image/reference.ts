// Image references as docker and the distribution registry read them: `[host[:port]/]path[:tag][@digest]`.
// The grammar follows distribution's reference package (lower-case path components separated by
// `.`, `_`, `__` or dashes; tags of at most 128 word characters; `algo:hex` digests) with Docker
// Hub's defaults: no host → `docker.io`, a single path component → `library/<name>`, and API calls
// for docker.io go to `registry-1.docker.io`. Parsing is strict so that a typo in `--to` fails
// before anything is built, and the parsed value is a plain frozen object that serialises cleanly.
import { UsageError } from '../errors.js';

/** `--from`/`--to` or another image reference that cannot be used as given. */
export class InvalidReferenceError extends UsageError {
  override name = 'InvalidReferenceError';
}

export const DOCKER_HUB = 'docker.io';
/** Where Docker Hub's registry API actually answers (docker.io itself redirects to a web page). */
export const DOCKER_HUB_API_HOST = 'registry-1.docker.io';

/** A repository on a registry: what a bearer-token scope and a cross-repository mount name. */
export interface RepositoryRef {
  /** Registry as written in references, normalised: `docker.io`, `quay.io`, `127.0.0.1:5000`. */
  readonly registry: string;
  /** Host (and port) that serves the API: `registry-1.docker.io` for docker.io, else `registry`. */
  readonly apiHost: string;
  /** Repository path inside the registry, e.g. `library/busybox`, `ns/img`. */
  readonly repository: string;
  /** `registry/repository`. */
  toString(): string;
}

export interface ImageReference {
  readonly registry: string;
  readonly apiHost: string;
  readonly repository: string;
  readonly tag?: string;
  /** `sha256:<hex>` (or another `algo:hex`) when the reference pins a digest. */
  readonly digest?: string;
  /** The repository this reference lives in (without tag or digest). */
  readonly context: RepositoryRef;
  /** Tag when present, else the digest: what goes after `/manifests/` in an API path. */
  readonly identifier: string;
  /** Canonical `registry/repository[:tag][@digest]` (docker.io and `library/` spelled out). */
  toString(): string;
}

const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const PATH_RE = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const SHA256_RE = /^sha256:[a-f0-9]{64}$/;
// A domain component (letters, digits, inner dashes) or a bracketed IPv6 address, optional port.
const HOST_RE =
  /^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[0-9a-fA-F:.]+\])(?::[0-9]{1,5})?$/;
const MAX_NAME = 255;

function fail(input: string, cause: string): never {
  throw new InvalidReferenceError(`parsing image reference ${JSON.stringify(input)}: ${cause}`);
}

/** True when the first path element names a registry rather than a Docker Hub namespace. */
function looksLikeHost(first: string): boolean {
  return (
    first.includes('.') ||
    first.includes(':') ||
    first === 'localhost' ||
    first !== first.toLowerCase()
  );
}

export function repositoryRef(registry: string, repository: string): RepositoryRef {
  const apiHost = registry === DOCKER_HUB ? DOCKER_HUB_API_HOST : registry;
  return Object.freeze({
    registry,
    apiHost,
    repository,
    toString: () => `${registry}/${repository}`,
  });
}

/**
 * Parses `[host[:port]/]path[:tag][@digest]`. Neither tag nor digest is required here: callers
 * decide (see `withDefaultTag`, `assertTagged`). Throws InvalidReferenceError with the reason.
 */
export function parseReference(input: string): ImageReference {
  const s = input.trim();
  if (s === '') fail(input, 'empty reference');
  if (/\s/.test(s)) fail(input, 'contains white space');
  if (s.includes('://')) fail(input, 'a URL scheme is not part of an image reference');

  let rest = s;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_RE.test(digest)) fail(input, `invalid digest ${JSON.stringify(digest)}`);
    if (digest.startsWith('sha256:') && !SHA256_RE.test(digest)) {
      fail(input, 'a sha256 digest has 64 lower-case hex digits');
    }
  }

  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) fail(input, `invalid tag ${JSON.stringify(tag)}`);
  }

  let registry = DOCKER_HUB;
  let repository = rest;
  const slash = rest.indexOf('/');
  if (slash > 0 && looksLikeHost(rest.slice(0, slash))) {
    registry = rest.slice(0, slash);
    repository = rest.slice(slash + 1);
    if (!HOST_RE.test(registry)) fail(input, `invalid registry host ${JSON.stringify(registry)}`);
    const port = /:(\d+)$/.exec(registry)?.[1];
    if (port !== undefined && Number(port) > 65535) fail(input, `invalid port ${port}`);
    registry = registry.toLowerCase();
    if (registry === 'index.docker.io' || registry === DOCKER_HUB_API_HOST) registry = DOCKER_HUB;
  }
  if (repository === '') fail(input, 'missing repository');
  if (repository !== repository.toLowerCase()) fail(input, 'repository names must be lower case');
  if (!PATH_RE.test(repository)) fail(input, `invalid repository ${JSON.stringify(repository)}`);
  if (registry === DOCKER_HUB && !repository.includes('/')) repository = `library/${repository}`;
  if (`${registry}/${repository}`.length > MAX_NAME)
    fail(input, `name longer than ${MAX_NAME} characters`);

  return makeReference(repositoryRef(registry, repository), tag, digest);
}

function makeReference(
  context: RepositoryRef,
  tag: string | undefined,
  digest: string | undefined,
): ImageReference {
  const text = `${context}${tag === undefined ? '' : `:${tag}`}${digest === undefined ? '' : `@${digest}`}`;
  const ref: ImageReference = {
    registry: context.registry,
    apiHost: context.apiHost,
    repository: context.repository,
    ...(tag === undefined ? {} : { tag }),
    ...(digest === undefined ? {} : { digest }),
    context,
    identifier: digest ?? tag ?? 'latest',
    toString: () => text,
  };
  return Object.freeze(ref);
}

/** The same reference with `tag` (or `latest`) when it names neither a tag nor a digest, as docker pull does. */
export function withDefaultTag(ref: ImageReference, tag = 'latest'): ImageReference {
  if (ref.tag !== undefined || ref.digest !== undefined) return ref;
  return makeReference(ref.context, tag, undefined);
}

/** The reference pinned to `digest` (tag dropped): how a manifest is fetched or pushed by digest. */
export function withDigest(ref: ImageReference | RepositoryRef, digest: string): ImageReference {
  const context = 'context' in ref ? ref.context : ref;
  return makeReference(context, undefined, digest);
}

/** The reference with `tag` and no digest. */
export function withTag(ref: ImageReference | RepositoryRef, tag: string): ImageReference {
  if (!TAG_RE.test(tag)) fail(tag, `invalid tag ${JSON.stringify(tag)}`);
  const context = 'context' in ref ? ref.context : ref;
  return makeReference(context, tag, undefined);
}

/**
 * Checks a destination: it may not pin a digest (the digest is what the push produces), as oc's
 * "--to may not point to an image by ID". A reference without a tag gets `latest`.
 */
export function parseDestinationReference(input: string, flag = '--to'): ImageReference {
  const ref = parseReference(input);
  if (ref.digest !== undefined) {
    throw new InvalidReferenceError(
      `parsing ${flag} ${JSON.stringify(input)}: ${flag} may not point to an image by digest`,
    );
  }
  return withDefaultTag(ref);
}

/** True for `sha256:<64 hex>`. */
export function isSha256Digest(s: string): boolean {
  return SHA256_RE.test(s);
}

/** `repository:<repo>:<actions>` as bearer-token scopes spell it (actions e.g. `pull`, `pull,push`). */
export function repositoryScope(repo: RepositoryRef, actions: string): string {
  return `repository:${repo.repository}:${actions}`;
}
