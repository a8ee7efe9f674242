// Keeps an index build's resident memory close to what it holds (the database file, once, and
// the package being loaded) rather than to what the garbage collector has not yet reclaimed.
// Measured (docs/BENCHMARKS.md, "Scale"): V8 lets the young generation grow to 16 MB
// semi-spaces while a package's decoded objects survive scavenges, so its growth is held to
// the initial size (a V8 flag set at run time, read on each growth; free in CPU time on the
// dev corpus, 25 MB less peak). A package's file bytes and decoded objects are garbage once
// it is written; V8 reclaims them late when the heap is small and the database (the PagedFile's
// chunks, live ArrayBuffers) large, so a full collection runs when the heap grew by 24 MB or
// ArrayBuffers by 32 MB since the last one. ArrayBuffers the writer holds on purpose (the
// database file's chunks, CatalogWriter.heldBytes) are not counted: they are no garbage, and
// counting them made one full collection per 32 MB of database, each marking a heap that also
// grows with the catalog, so their cost grew with the square of the catalog (4,992 packages:
// ~40 forced collections, several seconds; docs/BENCHMARKS.md, "Scaling side by side"). The
// earlier trigger (ArrayBuffers +10 %, for sql.js's file growth copies, gone with PagedFile)
// ran one per file growth and cost a fifth of a small build's CPU time.
// The sizes come from V8's heap statistics (external memory counts every ArrayBuffer), not
// process.memoryUsage(), which also reads the resident set size from /proc on every call:
// 0.1-0.5 ms each once the process is large, 50-100 ms of a dev-corpus build's 207 steps.
import v8 from 'node:v8';
import vm from 'node:vm';

const MB = 1024 * 1024;
let collect: (() => void) | undefined;

// At import, before the program has grown its young generation: a later setting holds it at
// whatever size it reached (measured: 6 MB more peak on a 100 MB database).
v8.setFlagsFromString('--semi-space-growth-factor=1');

/** Exposes the full collection once; returns it. */
function gcFunction(): () => void {
  if (!collect) {
    v8.setFlagsFromString('--expose-gc');
    collect = vm.runInNewContext('gc') as () => void;
  }
  return collect;
}

/**
 * The JS heap's size, and the memory outside it that V8 knows of (ArrayBuffers, wasm) beyond
 * the `held` bytes the build keeps on purpose.
 */
function usage(held: number): { heapTotal: number; external: number } {
  const s = v8.getHeapStatistics();
  return { heapTotal: s.total_heap_size, external: s.external_memory - held };
}

/** Watches the heap and ArrayBuffer memory between steps of a build and collects when they grew. */
export class MemoryWatch {
  private readonly gc = gcFunction();
  private floor = usage(0);
  collections = 0;

  /**
   * Call between steps (after each bundle), with the bytes of ArrayBuffers the build holds on
   * purpose (the writer's output so far), which are not garbage to collect.
   */
  step(held = 0): void {
    const now = usage(held);
    if (
      now.external > this.floor.external + 32 * MB ||
      now.heapTotal > this.floor.heapTotal + 24 * MB
    )
      this.collect(held);
  }

  /** Collects now. */
  collect(held = 0): void {
    this.gc();
    this.collections++;
    this.floor = usage(held);
  }
}
