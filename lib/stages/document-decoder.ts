// Decoding a package-manifest catalog's files (reading them, js-yaml) is about half of what an
// index build does on its main thread, and needs nothing but the files' bytes. So where a
// second CPU is there to use (the CLI), a worker thread reads and decodes the parts ahead
// while the main thread loads and writes the ones before (the loaders' DocumentDecoder port).
// - The thread runs ahead as far as it can: its replies wait in the channel as structured-clone
//   bytes (compact, off the JS heap) until the load takes them (receiveMessageOnPort), so the
//   main thread never holds more than the part it loads. Memory stays bounded all the same:
//   the thread stops while the parts it decoded and the load has not taken hold more than
//   AHEAD_BYTES of manifests (the main thread publishes what it took in shared memory), and the
//   main thread asks for at most AHEAD_PARTS parts, AHEAD_BYTES of bytes it hands over, ahead.
// - One thread does all the decoding: js-yaml decodes a corpus at a third of its first speed
//   once V8 has optimized it, so splitting the work would pay that warm-up twice.
// - It changes no output: it runs the load's own decodeFirstDocument under the load's limits,
//   and a file it cannot read or decode is left to the load, which meets the error where it
//   always did. If the thread fails (cannot start, dies), the build says so once and decodes
//   the rest on the main thread.
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import {
  MessageChannel,
  type MessagePort,
  receiveMessageOnPort,
  Worker,
} from 'node:worker_threads';
import type { FileTree, TreeFile } from '../catalog/file-tree.js';
import type { DocumentDecoder } from '../catalog/manifest-tree.js';
import type { DocumentLimits, DocumentResult } from '../catalog/yaml-document.js';

/** Bytes of manifests decoded ahead of the load (and of file bytes handed to the thread). */
export const AHEAD_BYTES = 16 * 1024 * 1024;
/** Parts asked for ahead of the load. */
const AHEAD_PARTS = 256;
/** Slots of the shared counters: replies the thread posted, and replies the load took. */
export const POSTED = 0;
export const TAKEN = 1;

/** One part's files, by local path when they have one (the thread reads them), else bytes. */
export interface DecodeRequest {
  id: number;
  limits: DocumentLimits;
  files: ({ source: string } | { data: Uint8Array })[];
}

/** Each file's first document, in the request's order; null: left to the load. */
export interface DecodeReply {
  id: number;
  documents: (DocumentResult | null)[];
}

/** What the thread is started with. */
export interface DecoderThreadData {
  port: MessagePort;
  /** Int32 counters POSTED and TAKEN. */
  counters: SharedArrayBuffer;
}

interface Thread {
  worker: Worker;
  port: MessagePort;
  counters: Int32Array;
  /** Why it ended, if it did (it may, before a decoder takes it over: an early start). */
  ended?: Error;
}

let early: Thread | undefined;

/**
 * Whether a decoding thread can help this process: with one CPU to run on (a container's
 * quota, `taskset`) it only competes with the load — measured on the dev corpus under
 * `taskset -c 0`: 1.11 × the wall time and +14 MB peak RSS.
 */
export function secondCpuAvailable(): boolean {
  return availableParallelism() > 1;
}

/**
 * Starts the thread of the next WorkerDocumentDecoder now: called first thing by the
 * executable, its start-up (~50 ms, a node instance of its own) overlaps the loading of the
 * CLI's modules. Unref'd until used, so an unused one never keeps the process alive.
 */
export function startDecodingThreadEarly(): void {
  early ??= startThread();
}

/** The thread's module is beside this one; from source (.ts) it is loaded through tsx too. */
function startThread(): Thread {
  const channel = new MessageChannel();
  const counters = new SharedArrayBuffer(8);
  const workerData: DecoderThreadData = { port: channel.port2, counters };
  const options = { workerData, transferList: [channel.port2] };
  const self = import.meta.url;
  let worker: Worker;
  if (!self.endsWith('.ts'))
    worker = new Worker(new URL('./document-decoder-thread.js', self), options);
  else {
    const entry = new URL('./document-decoder-thread.ts', self).href;
    // tsx's ES module API (its CommonJS one fails where tsx's hooks are already registered).
    const tsx = pathToFileURL(createRequire(self).resolve('tsx/esm/api')).href.replace(
      /\.cjs$/,
      '.mjs',
    );
    worker = new Worker(
      `import(${JSON.stringify(tsx)}).then((tsx) => tsx.tsImport(${JSON.stringify(entry)}, ${JSON.stringify(entry)}))`,
      { ...options, eval: true },
    );
  }
  worker.unref();
  const thread: Thread = { worker, port: channel.port1, counters: new Int32Array(counters) };
  worker.on('error', (err) => {
    thread.ended ??= err;
  });
  worker.on('exit', (code) => {
    thread.ended ??= new Error(`the thread exited with code ${code}`);
  });
  return thread;
}

/** A file as the load reads it, with its decoded document; its bytes are still read on access. */
function withDocument(file: TreeFile, document: DocumentResult): TreeFile {
  return {
    path: file.path,
    get data() {
      return file.data;
    },
    document,
  };
}

/** A part asked of the thread (`id`), or left to the load (no id). */
interface Asked {
  part: FileTree;
  id?: number;
  bytes: number;
}

export class WorkerDocumentDecoder implements DocumentDecoder {
  private thread: Thread | undefined;
  private failed = false;
  private closed = false;
  private nextId = 0;

  /**
   * Takes over the thread started early, if there is one. `warn`: told once, if the thread
   * fails and decoding goes back to the main thread.
   */
  constructor(private readonly options: { warn?: (message: string) => void } = {}) {
    if (early) this.attach(early);
    early = undefined;
  }

  /** Starts the thread now, so that its start-up overlaps the caller's own. */
  start(): this {
    this.running();
    return this;
  }

  async *decodeParts(
    parts: AsyncIterable<FileTree> | Iterable<FileTree>,
    limits: DocumentLimits,
  ): AsyncIterable<FileTree> {
    const source =
      Symbol.asyncIterator in parts ? parts[Symbol.asyncIterator]() : parts[Symbol.iterator]();
    const asked: Asked[] = [];
    let askedBytes = 0;
    let exhausted = false;
    try {
      for (;;) {
        while (
          !exhausted &&
          (asked.length === 0 || (asked.length < AHEAD_PARTS && askedBytes < AHEAD_BYTES))
        ) {
          const next = await source.next();
          if (next.done) exhausted = true;
          else {
            const a = this.ask(next.value, limits);
            asked.push(a);
            askedBytes += a.bytes;
          }
        }
        const a = asked.shift();
        if (!a) return;
        askedBytes -= a.bytes;
        yield a.id === undefined ? a.part : await this.answer(a.id, a.part);
      }
    } finally {
      await source.return?.();
    }
  }

  /** Replies the thread posted and the load took so far (for tests and diagnostics). */
  progress(): { posted: number; taken: number } {
    const counters = this.thread?.counters;
    return counters
      ? { posted: Atomics.load(counters, POSTED), taken: Atomics.load(counters, TAKEN) }
      : { posted: 0, taken: 0 };
  }

  /** Stops the thread; parts still asked for are left to the load. */
  async close(): Promise<void> {
    this.closed = true;
    const thread = this.thread;
    this.thread = undefined;
    if (!thread) return;
    thread.port.close();
    await thread.worker.terminate();
  }

  private running(): Thread | undefined {
    if (this.failed || this.closed) return undefined;
    if (this.thread) return this.thread;
    try {
      this.attach(startThread());
    } catch (err) {
      this.fail(err);
    }
    return this.thread;
  }

  private attach(thread: Thread): void {
    this.thread = thread;
    if (thread.ended) this.fail(thread.ended);
    else {
      const ended = () => this.fail(thread.ended);
      thread.worker.on('error', ended);
      thread.worker.on('exit', ended);
    }
  }

  /** Hands a part to the thread; the bytes it copied over count against AHEAD_BYTES. */
  private ask(part: FileTree, limits: DocumentLimits): Asked {
    const thread = this.running();
    if (!thread || part.length === 0) return { part, bytes: 0 };
    const id = this.nextId++;
    const transfer: ArrayBuffer[] = [];
    let bytes = 0;
    const files = part.map((f) => {
      if (f.source !== undefined) return { source: f.source };
      // A copy of the file's own bytes: its data may be a view of a whole package blob.
      const data = new Uint8Array(f.data);
      transfer.push(data.buffer);
      bytes += data.length;
      return { data };
    });
    thread.port.postMessage({ id, limits, files } satisfies DecodeRequest, transfer);
    return { part, id, bytes };
  }

  /**
   * The part with the documents of reply `id`. Replies come in the order asked; each is taken
   * off the channel only now, and the thread is told (TAKEN) so that it may run on. Never
   * rejects: if the thread failed, the part goes to the load as it was.
   */
  private async answer(id: number, part: FileTree): Promise<FileTree> {
    for (;;) {
      const thread = this.thread;
      if (!thread) return part;
      const { counters } = thread;
      const posted = Atomics.load(counters, POSTED);
      const message = receiveMessageOnPort(thread.port);
      if (message) {
        Atomics.add(counters, TAKEN, 1);
        Atomics.notify(counters, TAKEN);
        const reply = message.message as DecodeReply;
        if (reply.id !== id) continue; // of an earlier load that stopped half-way
        return part.map((f, i) => {
          const document = reply.documents[i];
          return document ? withDocument(f, document) : f;
        });
      }
      // Not posted yet: wait for it without blocking the event loop (a thread that dies says
      // so in an event, seen at the next turn), the thread keeping the process alive.
      thread.worker.ref();
      await Atomics.waitAsync(counters, POSTED, posted, 1000).value;
      thread.worker.unref();
    }
  }

  /** From now on the load decodes in place. */
  private fail(err: unknown): void {
    if (this.closed || this.failed) return;
    this.failed = true;
    const thread = this.thread;
    this.thread = undefined;
    thread?.port.close();
    this.options.warn?.(
      `decoding manifests on a second thread: ${(err as Error).message ?? String(err)}; decoding them on the main thread`,
    );
  }
}
