// The upgrade graph of one package across two catalogs, every node and edge marked added,
// removed or unchanged: what the report draws for a changed package (as Mermaid for
// Markdown viewers, as SVG for the report page). Node and edge sets are render-graph's, so a
// marked graph of an unchanged package draws what `catalog-build graph` draws.
import { type CatalogGraph, channelHead, type GraphPackage } from './catalog-graph.js';
import { compareBytes } from './file-tree.js';
import { edgeLabel, edgesOf, type GraphEdge, goQuote, nodeId, versionOf } from './mermaid-graph.js';
import { compareSemVer } from './semver.js';

export type Mark = 'added' | 'removed' | 'same';

export interface MarkedNode {
  name: string;
  mark: Mark;
  /** The channel head in the new catalog (or the old one, for a removed channel). */
  head: boolean;
}

export interface MarkedEdge extends GraphEdge {
  mark: Mark;
}

export interface MarkedChannel {
  name: string;
  mark: Mark;
  /** Oldest version first (then by name): the left-to-right order of a drawing. */
  nodes: MarkedNode[];
  edges: MarkedEdge[];
}

export interface MarkedPackage {
  name: string;
  mark: Mark;
  channels: MarkedChannel[];
}

const key = (e: GraphEdge) => `${e.kind}\0${e.from}\0${e.to}\0${e.range ?? ''}`;

function channelEdges(graph: CatalogGraph, pkg: GraphPackage | undefined, channel: string) {
  const c = pkg?.channels.find((x) => x.name === channel);
  const out = new Map<string, GraphEdge>();
  if (pkg && c)
    for (const { edges } of edgesOf(graph, pkg, c)) for (const e of edges) out.set(key(e), e);
  return { channel: c, edges: out };
}

/** One package of OLD and NEW (either may be absent) as one marked graph. */
export function markedPackage(
  oldGraph: CatalogGraph | undefined,
  newGraph: CatalogGraph,
  name: string,
): MarkedPackage {
  const o = oldGraph?.packages.find((p) => p.name === name);
  const n = newGraph.packages.find((p) => p.name === name);
  const channelNames = [
    ...new Set([...(o?.channels ?? []), ...(n?.channels ?? [])].map((c) => c.name)),
  ].sort(compareBytes);
  const channels = channelNames.map((channelName): MarkedChannel => {
    const before = channelEdges(oldGraph ?? newGraph, o, channelName);
    const after = channelEdges(newGraph, n, channelName);
    const oldNames = new Set(before.channel?.entries.map((e) => e.name) ?? []);
    const newNames = new Set(after.channel?.entries.map((e) => e.name) ?? []);
    const mark = (inOld: boolean, inNew: boolean): Mark =>
      !oldGraph || (inOld && inNew) ? 'same' : inNew ? 'added' : 'removed';
    const head = after.channel
      ? channelHead(after.channel)
      : before.channel
        ? channelHead(before.channel)
        : undefined;
    // Edge ends that are no entry (a replaced bundle no longer in the catalog) are drawn too.
    const all = new Set([...oldNames, ...newNames]);
    const edges: MarkedEdge[] = [];
    for (const [k, e] of after.edges) edges.push({ ...e, mark: mark(before.edges.has(k), true) });
    if (oldGraph)
      for (const [k, e] of before.edges)
        if (!after.edges.has(k)) edges.push({ ...e, mark: 'removed' });
    for (const e of edges) all.add(e.from).add(e.to);
    const version = (b: string) =>
      newGraph.bundles.has(b) || !oldGraph ? versionOf(newGraph, b) : versionOf(oldGraph, b);
    const nodes = [...all]
      .sort((a, b) => compareSemVer(version(a), version(b)) || compareBytes(a, b))
      .map((b) => ({
        name: b,
        mark: mark(
          oldNames.has(b) || (!newNames.has(b) && !oldNames.has(b)),
          newNames.has(b) || !oldNames.has(b),
        ),
        head: b === head,
      }));
    return {
      name: channelName,
      mark: mark(Boolean(before.channel), Boolean(after.channel)),
      nodes,
      edges,
    };
  });
  return { name, mark: !oldGraph || (o && n) ? 'same' : n ? 'added' : 'removed', channels };
}

const NODE_CLASS: Record<Mark, string> = { added: ':::added', removed: ':::removed', same: '' };
const EDGE_STYLE: Record<Mark, string | undefined> = {
  added: 'stroke:#1a7f37,stroke-width:3px',
  removed: 'stroke:#cf222e,stroke-width:2px,stroke-dasharray:4 3',
  same: undefined,
};

/**
 * Mermaid text for marked packages: render-graph's layout (a subgraph per package and per
 * channel), added nodes green, removed ones red and dashed, edges coloured by linkStyle.
 */
export function renderMarkedMermaid(packages: MarkedPackage[]): string {
  const lines = [
    'graph LR',
    '  classDef added fill:#dafbe1,stroke:#1a7f37,stroke-width:2px',
    '  classDef removed fill:#ffebe9,stroke:#cf222e,stroke-dasharray:4 3',
  ];
  const linkStyles: string[] = [];
  let edgeIndex = 0;
  for (const p of packages) {
    lines.push(`  %% package ${goQuote(p.name)}`, `  subgraph ${goQuote(p.name)}`);
    for (const c of p.channels) {
      const mark = c.mark === 'same' ? '' : ` (${c.mark})`;
      lines.push(`    subgraph ${p.name}-${c.name}[${goQuote(c.name + mark)}]`);
      for (const node of c.nodes)
        lines.push(
          `      ${nodeId(p.name, c.name, node.name)}[${goQuote(node.head ? `${node.name} (head)` : node.name)}]${NODE_CLASS[node.mark]}`,
        );
      for (const e of c.edges) {
        lines.push(
          `      ${nodeId(p.name, c.name, e.from)}-- ${edgeLabel(e)} --> ${nodeId(p.name, c.name, e.to)}`,
        );
        const style = EDGE_STYLE[e.mark];
        if (style) linkStyles.push(`  linkStyle ${edgeIndex} ${style}`);
        edgeIndex++;
      }
      lines.push('    end');
    }
    lines.push('  end');
  }
  return `${[...lines, ...linkStyles].join('\n')}\n`;
}
