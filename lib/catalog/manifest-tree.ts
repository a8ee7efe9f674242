// The two directory walks of operator-registry's DirectoryLoader need the same view of a
// manifests tree: files in filepath.Walk order with hidden entries (a name starting with '.')
// and everything below a hidden directory left out, and for each folder its direct files in
// name order. Each file's first document is decoded once and shared by both walks.
// A file whose document goes over a decoding limit takes its whole package directory (the
// first path segment) out of the tree, with one named warning: half a package would load
// as a different, wrong package.
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
  data: Uint8Array;
  /** The first YAML/JSON document, decoded on first use. */
  readonly document: DocumentResult;
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
  // Read once: a tree's `data` may be a getter that reads the file on each access (a local
  // directory), and the decoder must see the very bytes `data` holds.
  const data = file.data;
  let decoded: DocumentResult | undefined;
  return {
    path: file.path,
    dir: slash === -1 ? '' : file.path.slice(0, slash),
    name: slash === -1 ? file.path : file.path.slice(slash + 1),
    data,
    get document() {
      decoded ??= decodeFirstDocument(data, limits);
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
