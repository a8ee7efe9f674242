// Image reference parsing: Docker Hub defaults, hosts with ports, digests, and what is refused.
import { describe, expect, it } from 'vitest';
import {
  formatLocation,
  parseDestinationLocation,
  parseSourceLocation,
} from '../../../lib/image/location.js';
import {
  InvalidReferenceError,
  parseDestinationReference,
  parseReference,
  repositoryScope,
  withDefaultTag,
  withDigest,
} from '../../../lib/image/reference.js';

const D = `sha256:${'ab'.repeat(32)}`;

describe('parseReference', () => {
  it.each([
    ['busybox', 'docker.io', 'registry-1.docker.io', 'library/busybox', undefined, undefined],
    ['busybox:1.36', 'docker.io', 'registry-1.docker.io', 'library/busybox', '1.36', undefined],
    ['ns/img:tag', 'docker.io', 'registry-1.docker.io', 'ns/img', 'tag', undefined],
    [
      'docker.io/busybox',
      'docker.io',
      'registry-1.docker.io',
      'library/busybox',
      undefined,
      undefined,
    ],
    ['index.docker.io/ns/img', 'docker.io', 'registry-1.docker.io', 'ns/img', undefined, undefined],
    [
      'quay.io/openshift/origin-operator-registry:4.5',
      'quay.io',
      'quay.io',
      'openshift/origin-operator-registry',
      '4.5',
      undefined,
    ],
    ['127.0.0.1:5000/a/b/c:v1', '127.0.0.1:5000', '127.0.0.1:5000', 'a/b/c', 'v1', undefined],
    ['localhost/img', 'localhost', 'localhost', 'img', undefined, undefined],
    ['localhost:5000/img:x', 'localhost:5000', 'localhost:5000', 'img', 'x', undefined],
    [`reg.example/img@${D}`, 'reg.example', 'reg.example', 'img', undefined, D],
    [`reg.example/img:t@${D}`, 'reg.example', 'reg.example', 'img', 't', D],
    ['[::1]:5000/img:t', '[::1]:5000', '[::1]:5000', 'img', 't', undefined],
    [
      'Reg.Example:443/a__b/c-d.e_f:T_1',
      'reg.example:443',
      'reg.example:443',
      'a__b/c-d.e_f',
      'T_1',
      undefined,
    ],
  ])('%s', (input, registry, apiHost, repository, tag, digest) => {
    const r = parseReference(input);
    expect(r.registry).toBe(registry);
    expect(r.apiHost).toBe(apiHost);
    expect(r.repository).toBe(repository);
    expect(r.tag).toBe(tag);
    expect(r.digest).toBe(digest);
    expect(String(r.context)).toBe(`${registry}/${repository}`);
    // Canonical text parses back to the same reference.
    expect(String(parseReference(String(r)))).toBe(String(r));
  });

  it.each([
    ['', 'empty'],
    ['UPPER', 'lower case'],
    ['UPPER/Img', 'lower case'],
    ['reg.example/Img', 'lower case'],
    ['img:', 'invalid tag'],
    ['img:-x', 'invalid tag'],
    [`img:${'a'.repeat(129)}`, 'invalid tag'],
    ['img@sha256:abc', 'invalid digest'],
    [`img@sha256:${'A'.repeat(64)}`, '64 lower-case hex'],
    ['reg.example/', 'missing repository'],
    ['reg.example/a//b', 'invalid repository'],
    ['reg.example/a-/b', 'invalid repository'],
    ['reg.example:99999/a', 'invalid port'],
    ['https://reg.example/a', 'URL scheme'],
    ['a b', 'white space'],
    [`reg.example/${'a/'.repeat(130)}a`, 'longer than'],
  ])('rejects %j (%s)', (input, why) => {
    expect(() => parseReference(input)).toThrow(InvalidReferenceError);
    expect(() => parseReference(input)).toThrow(why);
  });

  it('is a UsageError with a stable name and the input in its message', () => {
    try {
      parseReference('Bad Ref');
      expect.unreachable();
    } catch (err) {
      expect((err as Error).name).toBe('InvalidReferenceError');
      expect((err as Error).message).toMatch(/^parsing image reference "Bad Ref": /);
    }
  });

  it('identifier is the digest, else the tag, else latest', () => {
    expect(parseReference(`r.io/a:t@${D}`).identifier).toBe(D);
    expect(parseReference('r.io/a:t').identifier).toBe('t');
    expect(parseReference('r.io/a').identifier).toBe('latest');
  });

  it('helpers', () => {
    const r = parseReference('r.io/a/b');
    expect(String(withDefaultTag(r))).toBe('r.io/a/b:latest');
    expect(String(withDigest(r, D))).toBe(`r.io/a/b@${D}`);
    expect(repositoryScope(r.context, 'pull,push')).toBe('repository:a/b:pull,push');
    expect(JSON.parse(JSON.stringify(r))).toMatchObject({ registry: 'r.io', repository: 'a/b' });
  });
});

describe('destinations', () => {
  it('refuses a digest for --to and defaults the tag', () => {
    expect(() => parseDestinationReference(`r.io/a@${D}`)).toThrow(
      '--to may not point to an image by digest',
    );
    expect(String(parseDestinationReference('r.io/a'))).toBe('r.io/a:latest');
  });

  it('parses the location kinds', () => {
    expect(parseSourceLocation('scratch')).toEqual({ kind: 'scratch' });
    expect(parseSourceLocation('oci:some/dir')).toEqual({ kind: 'oci', dir: 'some/dir' });
    expect(parseSourceLocation('oci:some/dir:v1')).toEqual({
      kind: 'oci',
      dir: 'some/dir',
      tag: 'v1',
    });
    expect(parseSourceLocation('oci:/abs/dir:v1')).toEqual({
      kind: 'oci',
      dir: '/abs/dir',
      tag: 'v1',
    });
    const f = parseDestinationLocation('file://offline/redhat-operators:4.3');
    expect(f.kind).toBe('file');
    expect(f).toEqual({ kind: 'file', path: 'offline/redhat-operators', tag: '4.3' });
    expect(formatLocation(f)).toBe('file://offline/redhat-operators:4.3');
    expect(parseSourceLocation('file://localhost:5000/a/b')).toEqual({
      kind: 'file',
      path: 'localhost:5000/a/b',
      tag: 'latest',
    });
    expect(() => parseDestinationLocation('file://../etc/x:1')).toThrow(InvalidReferenceError);
    expect(() => parseDestinationLocation('file:///abs/x:1')).toThrow(InvalidReferenceError);
    expect(() => parseDestinationLocation('scratch')).toThrow(InvalidReferenceError);
    expect(() => parseDestinationLocation('oci:')).toThrow('missing directory');
    expect(formatLocation(parseSourceLocation('r.io/x'))).toBe('r.io/x:latest');
  });
});
