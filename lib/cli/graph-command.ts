// `catalog-build graph CATALOG [--package P] [--store DIR]`: the upgrade graphs of a catalog
// as Mermaid text on stdout, the same bytes `opm alpha render-graph` v1.26.5 writes for the
// same FBC. CATALOG is anything `diff` takes (SQLite index, FBC directory, image, build id).
import { parseArgs } from 'node:util';
import { renderMermaid } from '../catalog/mermaid-graph.js';
import { readCatalog } from '../catalog-source/read-catalog.js';
import { UsageError } from '../errors.js';
import { CATALOG_INPUT_OPTIONS, catalogSources } from './catalog-inputs.js';

export const GRAPH_USAGE = `Usage: catalog-build graph CATALOG [--package NAME] [--store DIR] [--dir DIR] [--insecure]

Writes the upgrade graph of every package (or of one) as Mermaid text on stdout, as
\`opm alpha render-graph\` does. CATALOG: an SQLite index file (schema 7 or 13), a file-based
catalog directory or file, a build id in the store (build:ID or a bare id), or a catalog image
(host/repo:tag, oci:DIR[:TAG], file://NAME under --dir; --insecure for plain-HTTP registries).`;

export async function graphCommand(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
  const OPTIONS = {
    package: { type: 'string', short: 'p' },
    ...CATALOG_INPUT_OPTIONS,
    help: { type: 'boolean', short: 'h' },
  } as const;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(`reading graph flags: ${(err as Error).message}`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${GRAPH_USAGE}\n`);
    return 0;
  }
  if (positionals.length !== 1)
    throw new UsageError('reading graph arguments: exactly one CATALOG is needed');
  const sources = catalogSources(values);
  const { graph } = await readCatalog(positionals[0]!, sources);
  process.stdout.write(
    renderMermaid(graph, {
      ...(values.package ? { packageName: values.package } : {}),
      warn: (m) => process.stderr.write(`${m}\n`),
    }),
  );
  return 0;
}
