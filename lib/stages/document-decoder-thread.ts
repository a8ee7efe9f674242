// The worker thread of WorkerDocumentDecoder (document-decoder.ts): reads and decodes the files
// of one part per request, with the very function the load would run in place, and posts the
// documents back. A file it cannot read, or whose decoding throws, is answered with null: the
// load then reads and decodes it itself, and meets the error where it always did.
// It runs ahead of the load by at most AHEAD_BYTES of manifests: before each part it waits
// until the load has taken enough of the replies posted before.
import { readFileSync } from 'node:fs';
import { workerData } from 'node:worker_threads';
import { type DocumentResult, decodeFirstDocument } from '../catalog/yaml-document.js';
import {
  AHEAD_BYTES,
  type DecodeReply,
  type DecodeRequest,
  type DecoderThreadData,
  POSTED,
  TAKEN,
} from './document-decoder.js';

const { port, counters: shared } = workerData as DecoderThreadData;
const counters = new Int32Array(shared);
/** Bytes of manifests in each posted reply the load has not taken yet, oldest first. */
const untaken: number[] = [];
let untakenBytes = 0;
let taken = 0;

/** Blocks (this thread only) while the replies the load has not taken hold too much. */
function waitForRoom(): void {
  for (;;) {
    const now = Atomics.load(counters, TAKEN);
    for (; taken < now; taken++) untakenBytes -= untaken.shift() ?? 0;
    if (untaken.length === 0 || untakenBytes < AHEAD_BYTES) return;
    Atomics.wait(counters, TAKEN, now, 1000);
  }
}

/** Each file's first document, and the bytes read. */
function decodePart(request: DecodeRequest): {
  documents: (DocumentResult | null)[];
  bytes: number;
} {
  let bytes = 0;
  const documents = request.files.map((file) => {
    try {
      const data = 'source' in file ? readFileSync(file.source) : file.data;
      bytes += data.length;
      return decodeFirstDocument(data, request.limits);
    } catch {
      return null;
    }
  });
  return { documents, bytes };
}

port.on('message', (request: DecodeRequest) => {
  waitForRoom();
  const { documents, bytes } = decodePart(request);
  port.postMessage({ id: request.id, documents } satisfies DecodeReply);
  untaken.push(bytes);
  untakenBytes += bytes;
  Atomics.add(counters, POSTED, 1);
  Atomics.notify(counters, POSTED);
});
