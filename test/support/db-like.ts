// Deterministic stand-ins for a bundles.db, for layer and push tests: SQL-ish text rows with
// hash-derived ids and every fourth row a raw 32-byte hash, so the bytes compress about as a
// real index does (≈ 4:1) yet never repeat. The layer does not care what the file holds.
import { createHash } from 'node:crypto';

export function dbLikeBytes(size: number, seed: string): Buffer {
  const out = Buffer.alloc(size);
  let h = createHash('sha256').update(seed).digest();
  for (let off = 0, i = 0; off < size; i++) {
    h = createHash('sha256').update(h).digest();
    const row =
      i % 4 === 3
        ? h
        : Buffer.from(
            `INSERT INTO operatorbundle VALUES('${h.toString('hex', 0, 12)}','{"kind":"ClusterServiceVersion","spec":{"version":"${i % 97}.0.${i % 13}"}}');\n`,
          );
    off += row.copy(out, off);
  }
  return out;
}
