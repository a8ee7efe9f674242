// The two directory walks of operator-registry's DirectoryLoader need the same view of a
// manifests tree: files in filepath.Walk order with hidden entries (a name starting with '.')
// and everything below a hidden directory left out, and for each folder its direct files in
// name order. Each file's first document is decoded once and shared by both walks.
import { compareBytes, compareWalkOrder, type FileTree, type TreeFile } from './file-tree.js';
import { type DocumentResult, decodeFirstDocument } from './yaml-document.js';

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
}

function isHidden(path: string): boolean {
  return path.split('/').some((part) => part.startsWith('.'));
}

function toManifestFile(file: TreeFile): ManifestFile {
  const slash = file.path.lastIndexOf('/');
  let decoded: DocumentResult | undefined;
  return {
    path: file.path,
    dir: slash === -1 ? '' : file.path.slice(0, slash),
    name: slash === -1 ? file.path : file.path.slice(slash + 1),
    data: file.data,
    get document() {
      decoded ??= decodeFirstDocument(file.data);
      return decoded;
    },
  };
}

export function manifestTree(tree: FileTree): ManifestTree {
  const files = tree
    .filter((f) => !isHidden(f.path))
    .sort((a, b) => compareWalkOrder(a.path, b.path))
    .map(toManifestFile);
  const byDir = new Map<string, ManifestFile[]>();
  for (const f of files) {
    const list = byDir.get(f.dir);
    if (list) list.push(f);
    else byDir.set(f.dir, [f]);
  }
  for (const list of byDir.values()) list.sort((a, b) => compareBytes(a.name, b.name));
  return { files, filesIn: (dir) => byDir.get(dir) ?? [] };
}
