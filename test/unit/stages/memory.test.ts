// The memory watch collects on garbage, not on what a build holds on purpose: ArrayBuffers a
// writer declares held (a database file's chunks) do not count towards its trigger, so a
// large database does not bring a full collection per 32 MB of its growth.
// One case, every buffer alive to its end: V8 subtracts freed ArrayBuffers from its external
// memory only once its sweeper has run, so garbage of an earlier case could lower a later
// reading by its own size at any moment.
import { describe, expect, it } from 'vitest';
import { MemoryWatch } from '../../../lib/stages/memory.js';

const MB = 1024 * 1024;

describe('MemoryWatch', () => {
  it('collects on ArrayBuffers not declared held, counting from the last collection', () => {
    const watch = new MemoryWatch();
    watch.collect();
    const first = new Uint8Array(64 * MB).fill(1);
    // Declared held: not garbage, no collection.
    watch.step(first.byteLength);
    expect(watch.collections).toBe(1);
    // The same 64 MB undeclared: more than 32 MB over the floor.
    watch.step();
    expect(watch.collections).toBe(2);
    // The floor is taken with what is held at that collection.
    watch.collect(first.byteLength);
    const second = new Uint8Array(48 * MB).fill(2);
    watch.step(first.byteLength + second.byteLength);
    expect(watch.collections).toBe(3);
    watch.step(first.byteLength);
    expect(watch.collections).toBe(4);
    expect(first[0]! + second[0]!).toBe(3);
  });
});
