// Upgrade graphs as Mermaid text. `renderMermaid` writes what `opm alpha render-graph`
// (operator-registry v1.26.5, declcfg.MermaidWriter) writes for the same catalog, byte for
// byte: packages sorted by name, their channels sorted by name, entries in catalog order,
// a node line per entry followed by its edges (replace, skip, and one skipRange edge per
// entry of the channel whose version the range selects), names quoted as Go's %q does.
// `edgesOf` is the same edge rule for the diff, so a diff's edges are exactly the drawn ones.
import {
  type CatalogGraph,
  channelsByName,
  type GraphChannel,
  type GraphPackage,
} from './catalog-graph.js';
import {
  parseSemVerRange,
  type SemVer,
  type SemVerRange,
  tryParseSemVer,
  ZERO_VERSION,
} from './semver.js';

/** Go's %q for a string: double-quoted, with Go escapes for quotes, backslashes and controls. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\x07') out += '\\a';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (ch === '\v') out += '\\v';
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (
      (cp >= 0x80 && cp < 0xa0) ||
      cp === 0xad ||
      cp === 0xfeff ||
      cp === 0x2028 ||
      cp === 0x2029
    )
      out +=
        cp > 0xff
          ? `\\u${cp.toString(16).padStart(4, '0')}`
          : `\\u00${cp.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

export type EdgeKind = 'replace' | 'skip' | 'skipRange';

export interface GraphEdge {
  from: string;
  to: string;
  kind: EdgeKind;
  /** The range text, for skipRange edges. */
  range?: string;
}

export interface MermaidOptions {
  /** Only this package (render-graph's --package-name). */
  packageName?: string;
  /** Told about a skipRange that does not parse (render-graph prints it on stderr). */
  warn?: (message: string) => void;
}

/** Version of a bundle as render-graph compares it: unknown or unparsable → 0.0.0. */
export function versionOf(graph: CatalogGraph, bundle: string): SemVer {
  return tryParseSemVer(graph.bundles.get(bundle)?.version ?? '') ?? ZERO_VERSION;
}

/**
 * The edges of one channel, per entry in entry order, as render-graph draws them: `from` is
 * the older bundle, `to` the one that upgrades from it.
 */
export function edgesOf(
  graph: CatalogGraph,
  pkg: GraphPackage,
  channel: GraphChannel,
  warn?: (message: string) => void,
): Array<{ entry: string; edges: GraphEdge[] }> {
  return channel.entries.map((e) => {
    const edges: GraphEdge[] = [];
    if (e.replaces) edges.push({ from: e.replaces, to: e.name, kind: 'replace' });
    for (const s of e.skips) edges.push({ from: s, to: e.name, kind: 'skip' });
    if (e.skipRange) {
      let range: SemVerRange | undefined;
      try {
        range = parseSemVerRange(e.skipRange);
      } catch (err) {
        warn?.(
          `warning: ignoring invalid SkipRange for package/edge ${goQuote(pkg.name)}/${goQuote(e.name)}: ${(err as Error).message}`,
        );
      }
      if (range)
        for (const other of channel.entries)
          if (range(versionOf(graph, other.name)))
            edges.push({ from: other.name, to: e.name, kind: 'skipRange', range: e.skipRange });
    }
    return { entry: e.name, edges };
  });
}

/** Mermaid node id of a bundle in a channel: `<package>-<channel>-<bundle>`, as upstream. */
export function nodeId(pkg: string, channel: string, bundle: string): string {
  return `${pkg}-${channel}-${bundle}`;
}

export function edgeLabel(edge: GraphEdge): string {
  return edge.kind === 'skipRange' ? `"skipRange(${edge.range})"` : edge.kind;
}

export function renderMermaid(graph: CatalogGraph, options: MermaidOptions = {}): string {
  let out = 'graph LR\n';
  for (const pkg of graph.packages) {
    if (
      options.packageName !== undefined &&
      options.packageName !== '' &&
      pkg.name !== options.packageName
    )
      continue;
    // Unfiltered, upstream draws even an empty channel; filtered, it drops channels left empty.
    const channels = channelsByName(pkg).filter(
      (c) => !options.packageName || c.entries.length > 0,
    );
    if (channels.length === 0) continue;
    out += `  %% package ${goQuote(pkg.name)}\n  subgraph ${goQuote(pkg.name)}\n`;
    for (const channel of channels) {
      const channelId = `${pkg.name}-${channel.name}`;
      out += `    %% channel ${goQuote(channel.name)}\n    subgraph ${channelId}[${goQuote(channel.name)}]\n`;
      for (const { entry, edges } of edgesOf(graph, pkg, channel, options.warn)) {
        out += `      ${nodeId(pkg.name, channel.name, entry)}[${goQuote(entry)}]\n`;
        for (const edge of edges)
          out += `      ${nodeId(pkg.name, channel.name, edge.from)}[${goQuote(edge.from)}]-- ${edgeLabel(edge)} --> ${nodeId(pkg.name, channel.name, edge.to)}[${goQuote(edge.to)}]\n`;
      }
      out += '    end\n';
    }
    out += '  end\n';
  }
  return out;
}
