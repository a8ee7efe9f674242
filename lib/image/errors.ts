// Errors of the image model: an image document that cannot be read as what it claims to be, and
// a platform filter that cannot be applied. Names are stable (Step Functions and the CLI match on them).
import { ImageError, UsageError } from '../errors.js';

/** A manifest, index or config that is not valid JSON or lacks required fields, or a digest mismatch. */
export class MalformedImageError extends ImageError {
  override name = 'MalformedImageError';
}

/** `--filter-by-os` is not a valid regular expression, or it filtered every platform out. */
export class PlatformFilterError extends UsageError {
  override name = 'PlatformFilterError';
}
