// Keeps an index build's resident memory close to what it holds (the database, twice at the
// moment it is exported) rather than to what the garbage collector has not yet reclaimed.
// Measured (docs/BENCHMARKS.md, "Scale"): V8 lets the young generation grow to 16 MB
// semi-spaces while a package's decoded objects survive scavenges, and sql.js's in-memory file
// grows by 1.125x copies whose old copy stays resident until a full collection; with several
// such copies of a 250 MB database pending, the peak was 2.4x what the build held. So: young
// generation growth is held to its initial size, and a full collection runs whenever
// ArrayBuffer memory grew by a tenth since the last one (i.e. after a file growth), which is
// a few dozen times per build. Both are V8 flags set at run time (`--semi-space-growth-factor`
// is read on each growth, `--expose-gc` exposes gc to a new context); nothing else changes.
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

/** Watches ArrayBuffer memory between steps of a build and collects when it grew. */
export class MemoryWatch {
  private readonly gc = gcFunction();
  private floor = process.memoryUsage();
  collections = 0;

  /**
   * Call between steps (after each bundle): collects when ArrayBuffers grew by 10% + 8 MB
   * (a database file growth left its old copy) or the heap by 24 MB (decoded packages).
   */
  step(): void {
    const now = process.memoryUsage();
    if (
      now.arrayBuffers > this.floor.arrayBuffers * 1.1 + 8 * MB ||
      now.heapTotal > this.floor.heapTotal + 24 * MB
    )
      this.collect();
  }

  /** Collects now (before a step known to need the memory, such as exporting the DB). */
  collect(): void {
    this.gc();
    this.collections++;
    this.floor = process.memoryUsage();
  }
}
