// Upgrade graphs drawn as SVG text, for the report page: one SVG per package, one row per
// channel, bundles left to right from the oldest version to the newest, `replace` edges as
// straight arrows between neighbours or arcs above, `skip` edges as dashed arcs above and
// `skipRange` edges as dotted arcs below. Added nodes and edges are green, removed ones red
// and dashed. Drawn here rather than with Mermaid's JavaScript so the page is small, needs no
// script and makes no request to another host; the layout is simple on purpose (upgrade
// graphs are mostly chains with a few jumps).
import type { Mark, MarkedChannel, MarkedPackage } from './diff-graph.js';

const FONT = 12;
const CHAR_W = 7.2; // average advance of 12px sans-serif, enough to size a box
const NODE_H = 26;
const GAP = 34;
const PAD = 12;
const MIN_LABEL_W = 90;

export function escapeXml(s: string): string {
  return s.replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

const STROKE: Record<Mark, string> = { added: '#1a7f37', removed: '#cf222e', same: '#57606a' };
const FILL: Record<Mark, string> = { added: '#dafbe1', removed: '#ffebe9', same: '#f6f8fa' };

interface Row {
  channel: MarkedChannel;
  x: Map<string, { x: number; w: number }>;
  width: number;
  above: number;
  below: number;
}

function layoutRow(channel: MarkedChannel, labelWidth: number): Row {
  const x = new Map<string, { x: number; w: number }>();
  let cursor = labelWidth;
  for (const n of channel.nodes) {
    const w = Math.ceil(n.name.length * CHAR_W + (n.head ? 18 : 0) + 16);
    x.set(n.name, { x: cursor, w });
    cursor += w + GAP;
  }
  const index = new Map(channel.nodes.map((n, i) => [n.name, i]));
  let above = 0;
  let below = 0;
  for (const e of channel.edges) {
    const span = Math.abs((index.get(e.to) ?? 0) - (index.get(e.from) ?? 0));
    const h = 14 + 10 * Math.min(span, 6);
    if (e.kind === 'skipRange') below = Math.max(below, h);
    else if (!(e.kind === 'replace' && span === 1)) above = Math.max(above, h);
  }
  return { channel, x, width: cursor - GAP + PAD, above: above + 6, below: below + 6 };
}

function edgePath(
  from: { x: number; w: number },
  to: { x: number; w: number },
  mid: number,
  kind: string,
  span: number,
): string {
  const forward = from.x <= to.x;
  const x1 = forward ? from.x + from.w : from.x;
  const x2 = forward ? to.x : to.x + to.w;
  if (kind === 'replace' && span === 1) return `M${x1} ${mid} L${x2} ${mid}`;
  const h = 14 + 10 * Math.min(span, 6);
  const sign = kind === 'skipRange' ? 1 : -1;
  const y = mid + sign * (NODE_H / 2);
  const sx = from.x + from.w / 2;
  const ex = to.x + to.w / 2;
  return `M${sx} ${y} C${sx} ${y + sign * h} ${ex} ${y + sign * h} ${ex} ${y}`;
}

/** One package as an SVG element (class "upgrade-graph"); `data-package` names it. */
export function renderPackageSvg(pkg: MarkedPackage): string {
  // Channel names (bold, with their mark) sit left of the row: the widest sets the column.
  const labelWidth = Math.max(
    MIN_LABEL_W,
    ...pkg.channels.map(
      (c) =>
        Math.ceil((c.name.length + (c.mark === 'same' ? 0 : c.mark.length + 3)) * CHAR_W * 1.1) +
        2 * PAD,
    ),
  );
  const rows = pkg.channels.map((c) => layoutRow(c, labelWidth));
  const width = Math.max(labelWidth + 200, ...rows.map((r) => r.width));
  const parts: string[] = [];
  let top = PAD;
  for (const row of rows) {
    const mid = top + row.above + NODE_H / 2;
    const c = row.channel;
    const index = new Map(c.nodes.map((n, i) => [n.name, i]));
    parts.push(
      `<g class="channel" data-channel="${escapeXml(c.name)}" data-mark="${c.mark}">`,
      `<text x="${PAD}" y="${mid + 4}" font-weight="600" fill="${STROKE[c.mark]}">${escapeXml(c.name)}${c.mark === 'same' ? '' : ` (${c.mark})`}</text>`,
    );
    for (const e of c.edges) {
      const from = row.x.get(e.from);
      const to = row.x.get(e.to);
      if (!from || !to) continue;
      const span = Math.abs((index.get(e.to) ?? 0) - (index.get(e.from) ?? 0));
      const dash =
        e.mark === 'removed'
          ? '5 3'
          : e.kind === 'skip'
            ? '6 3'
            : e.kind === 'skipRange'
              ? '2 3'
              : '';
      parts.push(
        `<path class="edge" data-kind="${e.kind}" data-mark="${e.mark}" data-from="${escapeXml(e.from)}" data-to="${escapeXml(e.to)}" d="${edgePath(from, to, mid, e.kind, span)}" fill="none" stroke="${e.mark === 'same' ? (e.kind === 'skipRange' ? '#0969da' : '#57606a') : STROKE[e.mark]}" stroke-width="${e.mark === 'same' ? 1.5 : 2.5}"${dash ? ` stroke-dasharray="${dash}"` : ''} marker-end="url(#arrow-${e.mark})"><title>${escapeXml(`${e.from} → ${e.to} (${e.kind === 'skipRange' ? `skipRange ${e.range}` : e.kind})`)}</title></path>`,
      );
    }
    for (const n of c.nodes) {
      const p = row.x.get(n.name)!;
      parts.push(
        `<g class="node" data-bundle="${escapeXml(n.name)}" data-mark="${n.mark}"${n.head ? ' data-head="true"' : ''}>`,
        `<rect x="${p.x}" y="${mid - NODE_H / 2}" width="${p.w}" height="${NODE_H}" rx="5" fill="${FILL[n.mark]}" stroke="${STROKE[n.mark]}" stroke-width="${n.head ? 2.5 : 1.2}"${n.mark === 'removed' ? ' stroke-dasharray="4 3"' : ''}/>`,
        `<text x="${p.x + 8}" y="${mid + 4}">${escapeXml(n.name)}${n.head ? ' ★' : ''}</text>`,
        '</g>',
      );
    }
    parts.push('</g>');
    top += row.above + NODE_H + row.below + PAD;
  }
  const height = top;
  const markers = (['same', 'added', 'removed'] as Mark[])
    .map(
      (m) =>
        `<marker id="arrow-${m}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 z" fill="${STROKE[m]}"/></marker>`,
    )
    .join('');
  return `<svg class="upgrade-graph" data-package="${escapeXml(pkg.name)}" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="${FONT}"><defs>${markers}</defs>${parts.join('')}</svg>`;
}
