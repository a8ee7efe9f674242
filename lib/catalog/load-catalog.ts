// Entry point of the catalog rules: a manifests tree in, a LoadedCatalog out (bundles of
// walk 1, packages of walk 2, and every problem), by the loader rules asked for (v1.8.0 by
// default, or v1.26.5). Pure and deterministic: the same tree always gives the same value,
// in the same order.
import type { FileTree } from './file-tree.js';
import { loadBundles } from './load-bundles.js';
import { loadPackages } from './load-packages.js';
import { manifestTree } from './manifest-tree.js';
import type { LoadedCatalog, LoadOptions } from './model.js';

export function loadCatalog(files: FileTree, options: LoadOptions = {}): LoadedCatalog {
  const rules = options.rules ?? 'v1.8.0';
  const tree = manifestTree(files, options.limits);
  const walk1 = loadBundles(tree, rules);
  const walk2 = loadPackages(tree, walk1.bundles, rules);
  return {
    rules,
    bundles: walk1.bundles,
    packages: walk2.packages,
    problems: [...walk1.problems, ...walk2.problems],
    ...(tree.dropped.length > 0 ? { dropped: tree.dropped } : {}),
  };
}

/** Problems as upstream's single warning line: `error building database: <aggregate>`. */
export function problemsWarning(catalog: Pick<LoadedCatalog, 'problems'>): string | undefined {
  if (catalog.problems.length === 0) return undefined;
  const messages = catalog.problems.map((p) => p.message);
  return `error building database: ${messages.length === 1 ? messages[0] : `[${messages.join(', ')}]`}`;
}
