// Error classes whose meaning is fixed by their class alone: temporary-ness and names are not
// decided at run time by the caller, and pure image code has its own family.
import { describe, expect, it } from 'vitest';
import {
  AppRegistryPackagesFailedError,
  AppRegistryPackagesUnavailableError,
  packagesFailedError,
} from '../../lib/appregistry/errors.js';
import { ImageError, RegistryError } from '../../lib/errors.js';
import { MalformedImageError } from '../../lib/image/errors.js';
import { StoreUnavailableError } from '../../lib/store/store.js';

const failure = (temporary: boolean) => ({ package: 'p', name: 'E', message: 'm', temporary });

describe('error families', () => {
  it('StoreUnavailableError is temporary by itself', () => {
    expect(new StoreUnavailableError('reading x: 503').temporary).toBe(true);
  });

  it('failed packages get a class per outcome, never a name changed at run time', () => {
    const temporary = packagesFailedError('listing', [failure(true), failure(true)], 3);
    expect(temporary).toBeInstanceOf(AppRegistryPackagesUnavailableError);
    expect(temporary).toBeInstanceOf(AppRegistryPackagesFailedError);
    expect(temporary).toMatchObject({
      name: 'AppRegistryPackagesUnavailableError',
      temporary: true,
    });
    const final = packagesFailedError('listing', [failure(true), failure(false)], 3);
    expect(final).not.toBeInstanceOf(AppRegistryPackagesUnavailableError);
    expect(final).toMatchObject({ name: 'AppRegistryPackagesFailedError', temporary: false });
    expect(final.message).toBe('listing: 2 of 3 packages failed: p: E: m; p: E: m');
  });

  it('MalformedImageError belongs to the image family, not the registry adapter', () => {
    const err = new MalformedImageError('reading manifest x: no config or layers');
    expect(err).toBeInstanceOf(ImageError);
    expect(err).not.toBeInstanceOf(RegistryError);
  });
});
