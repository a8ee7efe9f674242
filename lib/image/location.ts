// Where an image comes from or goes to, as the `--from`/`--to` strings name it: a registry
// reference, an OCI image layout (`oci:<dir>[:tag]`, skopeo's spelling), oc's `file://` layout
// (rooted at `--dir`), or `scratch` (no base). Parsing only: the adapters that read and write
// each kind live in lib/registry. Kept pure so the CLI, the stages and the tests agree on it.
import {
  type ImageReference,
  InvalidReferenceError,
  parseDestinationReference,
  parseReference,
  withDefaultTag,
} from './reference.js';

export type ImageLocation =
  | { kind: 'registry'; ref: ImageReference }
  | { kind: 'oci'; dir: string; tag?: string }
  | { kind: 'file'; path: string; tag: string }
  | { kind: 'scratch' };

const OCI_TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

function parseOci(input: string): { kind: 'oci'; dir: string; tag?: string } {
  const body = input.slice('oci:'.length);
  // `oci:dir:tag` — the tag is after the last colon when that part is a valid tag and the
  // rest is non-empty (a bare Windows drive letter is not a concern on our platforms).
  const colon = body.lastIndexOf(':');
  let dir = body;
  let tag: string | undefined;
  if (colon > 0 && OCI_TAG_RE.test(body.slice(colon + 1))) {
    dir = body.slice(0, colon);
    tag = body.slice(colon + 1);
  }
  if (dir === '')
    throw new InvalidReferenceError(
      `parsing image location ${JSON.stringify(input)}: missing directory`,
    );
  if (dir.includes('\0'))
    throw new InvalidReferenceError(`parsing image location ${JSON.stringify(input)}: NUL in path`);
  return tag === undefined ? { kind: 'oci', dir } : { kind: 'oci', dir, tag };
}

/**
 * `file://<name>[:tag]` as oc wrote it under `--dir`: the repository path is the name exactly as
 * typed (no docker.io or library/ added), checked with the reference grammar, which also keeps
 * `..` and absolute paths out of it.
 */
function parseFile(
  input: string,
  destination: boolean,
): { kind: 'file'; path: string; tag: string } {
  const body = input.slice('file://'.length);
  const ref = destination
    ? parseDestinationReference(body, '--to')
    : withDefaultTag(parseReference(body));
  if (ref.digest !== undefined) {
    throw new InvalidReferenceError(
      `parsing image location ${JSON.stringify(input)}: file:// sources are read by tag`,
    );
  }
  const at = body.indexOf('@');
  const name = at >= 0 ? body.slice(0, at) : body;
  const colon = name.lastIndexOf(':');
  const path = colon > name.lastIndexOf('/') ? name.slice(0, colon) : name;
  return { kind: 'file', path, tag: ref.tag ?? 'latest' };
}

/** Parses a `--from` value: `scratch`, `oci:<dir>[:tag]`, `file://<ref>` or a registry reference (tag defaults to latest). */
export function parseSourceLocation(input: string): ImageLocation {
  const s = input.trim();
  if (s === 'scratch') return { kind: 'scratch' };
  if (s.startsWith('oci:')) return parseOci(s);
  if (s.startsWith('file://')) return parseFile(s, false);
  return { kind: 'registry', ref: withDefaultTag(parseReference(s)) };
}

/** Parses a `--to` value: `oci:<dir>[:tag]`, `file://<ref>` or a registry reference; digests are refused. */
export function parseDestinationLocation(input: string): ImageLocation {
  const s = input.trim();
  if (s === 'scratch')
    throw new InvalidReferenceError('parsing --to "scratch": scratch can only be a base image');
  if (s.startsWith('oci:')) return parseOci(s);
  if (s.startsWith('file://')) return parseFile(s, true);
  return { kind: 'registry', ref: parseDestinationReference(s) };
}

/** A location written back the way a user would type it (for logs and the "Pushed … to …" line). */
export function formatLocation(loc: ImageLocation): string {
  switch (loc.kind) {
    case 'scratch':
      return 'scratch';
    case 'oci':
      return `oci:${loc.dir}${loc.tag === undefined ? '' : `:${loc.tag}`}`;
    case 'file':
      return `file://${loc.path}:${loc.tag}`;
    case 'registry':
      return String(loc.ref);
  }
}
