// The two directory walks of operator-registry's DirectoryLoader need the same view of a
// manifests tree: files in filepath.Walk order with hidden entries (a name starting with '.')
// and everything below a hidden directory left out, and for each folder its direct files in
// name order. Each file's first document is decoded once and shared by both walks.
// A file whose document goes over a decoding limit takes its whole package directory (the
// first path segment) out of the tree, with one named warning: half a package would load
// as a different, wrong package.
// Decoding is most of a load's work, and it needs nothing but a file's bytes, so a caller may
// have it done ahead, elsewhere (a DocumentDecoder: another thread), and hand the documents in
// with the files (TreeFile.document).
import { compareBytes, compareWalkOrder, type FileTree, type TreeFile } from './file-tree.js';
import {
  DEFAULT_DOCUMENT_LIMITS,
  type DocumentLimits,
  type DocumentResult,
  decodeFirstDocument,
} from './yaml-document.js';

export interface ManifestFile {
  path: string;
  dir: string;
  name: string;
  /** The first YAML/JSON document, decoded on first use (or ahead: TreeFile.document). */
  readonly document: DocumentResult;
}

/**
 * Decodes the first document of every file of the parts ahead of a load: the parts come back in
 * their order, each file with `document` set, or unset where the decoder left it to the load.
 */
export interface DocumentDecoder {
  decodeParts(
    parts: AsyncIterable<FileTree> | Iterable<FileTree>,
    limits: DocumentLimits,
  ): AsyncIterable<FileTree>;
}

/** A load's parts as its walk reads them: through the decoder, when the load has one. */
export function decodedParts(
  parts: AsyncIterable<FileTree> | Iterable<FileTree>,
  options: { decoder?: DocumentDecoder; limits?: DocumentLimits },
): AsyncIterable<FileTree> | Iterable<FileTree> {
  return options.decoder
    ? options.decoder.decodeParts(parts, options.limits ?? DEFAULT_DOCUMENT_LIMITS)
    : parts;
}

export interface ManifestTree {
  /** Visible files in walk order. */
  files: ManifestFile[];
  /** Visible files of a folder (not recursive), in name order. */
  filesIn(dir: string): ManifestFile[];
  /** One warning per package directory left out for a decoding limit. */
  dropped: string[];
}

function isHidden(path: string): boolean {
  return path.split('/').some((part) => part.startsWith('.'));
}

function toManifestFile(file: TreeFile, limits: DocumentLimits): ManifestFile {
  const slash = file.path.lastIndexOf('/');
  // Read once, and only when not decoded ahead: a tree's `data` may be a getter that reads
  // the file on each access (a local directory), and the decoder must see the bytes it holds.
  let decoded = file.document;
  const data = decoded ? undefined : file.data;
  return {
    path: file.path,
    dir: slash === -1 ? '' : file.path.slice(0, slash),
    name: slash === -1 ? file.path : file.path.slice(slash + 1),
    get document() {
      decoded ??= decodeFirstDocument(data!, limits);
      return decoded;
    },
  };
}

export function manifestTree(
  tree: FileTree,
  limits: DocumentLimits = DEFAULT_DOCUMENT_LIMITS,
): ManifestTree {
  let files = tree
    .filter((f) => !isHidden(f.path))
    .sort((a, b) => compareWalkOrder(a.path, b.path))
    .map((f) => toManifestFile(f, limits));
  const dropped: string[] = [];
  const droppedDirs = new Set<string>();
  for (const f of files) {
    const doc = f.document;
    if (doc.ok || !doc.limit) continue;
    const slash = f.path.indexOf('/');
    const top = slash === -1 ? f.path : f.path.slice(0, slash);
    if (droppedDirs.has(top)) continue;
    droppedDirs.add(top);
    dropped.push(
      `decoding manifest ${f.path}: ${doc.error} (${doc.limit}; ${slash === -1 ? 'the file' : `package directory ${top}`} is left out)`,
    );
  }
  if (droppedDirs.size > 0) {
    files = files.filter((f) => {
      const slash = f.path.indexOf('/');
      return !droppedDirs.has(slash === -1 ? f.path : f.path.slice(0, slash));
    });
  }
  const byDir = new Map<string, ManifestFile[]>();
  for (const f of files) {
    const list = byDir.get(f.dir);
    if (list) list.push(f);
    else byDir.set(f.dir, [f]);
  }
  for (const list of byDir.values()) list.sort((a, b) => compareBytes(a.name, b.name));
  return { files, filesIn: (dir) => byDir.get(dir) ?? [], dropped };
}
