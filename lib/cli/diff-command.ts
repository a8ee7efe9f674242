// `catalog-build diff OLD NEW [--output text|json|mermaid] [--store DIR]`: what changed between two
// catalogs (any two of: SQLite index file, FBC directory or file, build id in the store).
// The text goes to stdout because it is the command's answer; errors go to stderr. Exit
// codes (docs/DIFF.md) let scripts tell "same", "changed" and "changed and an upgrade path
// broke" apart from errors.
import { parseArgs } from 'node:util';
import { diffCatalogs, renderDiffText } from '../catalog/catalog-diff.js';
import { markedPackage, renderMarkedMermaid } from '../catalog/diff-graph.js';
import { readCatalog } from '../catalog-source/read-catalog.js';
import { UsageError } from '../errors.js';
import { CATALOG_INPUT_OPTIONS, catalogSources } from './catalog-inputs.js';

export const DIFF_EXIT = {
  same: 0,
  error: 1,
  usage: 2,
  changed: 3,
  broken: 4,
} as const;

export const DIFF_USAGE = `Usage: catalog-build diff OLD NEW [--output text|json|mermaid] [--store DIR] [--dir DIR] [--insecure]

Compares two catalogs: packages, default channels, channels, heads, bundles, upgrade edges
and upgrade paths that broke. OLD and NEW: an SQLite index file (schema 7 or 13), a
file-based catalog directory or file, a build id in the store (build:ID or a bare id), or a
catalog image (host/repo:tag, oci:DIR[:TAG], file://NAME under --dir).
--output mermaid draws the changed packages' upgrade graphs with added nodes and edges green
and removed ones red (Mermaid text, for Markdown).
Exit status: 0 no changes, 3 changes, 4 changes that break an upgrade path, 1 error, 2 usage.`;

export async function diffCommand(argv: string[]): Promise<number> {
  const OPTIONS = {
    output: { type: 'string', short: 'o' },
    ...CATALOG_INPUT_OPTIONS,
    help: { type: 'boolean', short: 'h' },
  } as const;
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(`reading diff flags: ${(err as Error).message}`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${DIFF_USAGE}\n`);
    return DIFF_EXIT.same;
  }
  const output = values.output ?? 'text';
  if (output !== 'text' && output !== 'json' && output !== 'mermaid')
    throw new UsageError(
      `reading diff flags: --output must be text, json or mermaid, got "${output}"`,
    );
  if (positionals.length !== 2)
    throw new UsageError('reading diff arguments: OLD and NEW catalogs are needed');
  const sources = catalogSources(values);
  const [oldInput, newInput] = positionals as [string, string];
  const [oldCatalog, newCatalog] = await Promise.all([
    readCatalog(oldInput, sources),
    readCatalog(newInput, sources),
  ]);
  const diff = diffCatalogs(oldCatalog.graph, newCatalog.graph, {
    old: oldCatalog.description,
    new: newCatalog.description,
  });
  process.stdout.write(
    output === 'json'
      ? `${JSON.stringify(diff, null, 2)}\n`
      : output === 'mermaid'
        ? renderMarkedMermaid(
            diff.packages.map((p) => markedPackage(oldCatalog.graph, newCatalog.graph, p.name)),
          )
        : renderDiffText(diff),
  );
  if (diff.empty) return DIFF_EXIT.same;
  return diff.summary.pathsBroken > 0 ? DIFF_EXIT.broken : DIFF_EXIT.changed;
}
