// What changed between two catalogs, as the owner of a cluster's catalog asks it: packages
// added or removed, and per package the default channel, channels added or removed, channel
// heads that moved, bundles added or removed, upgrade edges (replace / skip / skipRange, the
// edges render-graph draws) added or removed, and upgrade paths broken — a bundle that was on
// a channel and could reach that channel's head, and now cannot reach the new head. Pure: two
// CatalogGraphs in, one JSON-serialisable value out (schema in docs/DIFF.md).
import {
  type CatalogGraph,
  channelHead,
  type GraphChannel,
  type GraphPackage,
} from './catalog-graph.js';
import { compareBytes } from './file-tree.js';
import { type EdgeKind, edgesOf } from './mermaid-graph.js';
import {
  parseSemVerRange,
  type SemVer,
  type SemVerRange,
  tryParseSemVer,
  ZERO_VERSION,
} from './semver.js';

export const DIFF_SCHEMA_VERSION = 1;

export interface DiffEdge {
  channel: string;
  /** The bundle upgraded from. */
  from: string;
  /** The bundle that upgrades it. */
  to: string;
  kind: EdgeKind;
  range?: string;
}

export interface HeadMove {
  channel: string;
  old: string | null;
  new: string | null;
}

export interface BrokenPath {
  channel: string;
  /** The bundle that can no longer upgrade to the channel head. */
  bundle: string;
  /** The head it could reach before, and the one it cannot reach now. */
  oldHead: string;
  newHead: string;
  /** True when the bundle itself is no longer in the channel. */
  bundleRemoved: boolean;
}

export interface PackageDiff {
  name: string;
  status: 'added' | 'removed' | 'changed';
  defaultChannel: { old: string; new: string } | null;
  channelsAdded: string[];
  channelsRemoved: string[];
  headsMoved: HeadMove[];
  bundlesAdded: string[];
  bundlesRemoved: string[];
  edgesAdded: DiffEdge[];
  edgesRemoved: DiffEdge[];
  pathsBroken: BrokenPath[];
}

export interface DiffSummary {
  packagesAdded: number;
  packagesRemoved: number;
  packagesChanged: number;
  defaultChannelsChanged: number;
  channelsAdded: number;
  channelsRemoved: number;
  headsMoved: number;
  bundlesAdded: number;
  bundlesRemoved: number;
  edgesAdded: number;
  edgesRemoved: number;
  pathsBroken: number;
}

export interface CatalogDiff {
  schemaVersion: number;
  old: string;
  new: string;
  /** True when nothing differs. */
  empty: boolean;
  summary: DiffSummary;
  /** One line: "+3 bundles, 1 head moved, 0 paths broken" (or "no changes"). */
  summaryText: string;
  packagesAdded: string[];
  packagesRemoved: string[];
  /** Every package that differs (added and removed ones included), sorted by name. */
  packages: PackageDiff[];
}

const edgeKey = (e: DiffEdge) => `${e.channel}\0${e.kind}\0${e.from}\0${e.to}\0${e.range ?? ''}`;

function bundleNames(p: GraphPackage | undefined): Set<string> {
  return new Set(p?.channels.flatMap((c) => c.entries.map((e) => e.name)) ?? []);
}

function channelEdges(graph: CatalogGraph, p: GraphPackage | undefined): Map<string, DiffEdge> {
  const out = new Map<string, DiffEdge>();
  for (const c of p?.channels ?? [])
    for (const { edges } of edgesOf(graph, p!, c))
      for (const e of edges) {
        const d: DiffEdge = { channel: c.name, from: e.from, to: e.to, kind: e.kind };
        if (e.range !== undefined) d.range = e.range;
        out.set(edgeKey(d), d);
      }
  return out;
}

const sorted = (xs: Iterable<string>) => [...xs].sort(compareBytes);
const minus = <T>(a: Set<T>, b: Set<T>) => [...a].filter((x) => !b.has(x));

function compareEdges(a: DiffEdge, b: DiffEdge): number {
  return (
    compareBytes(a.channel, b.channel) ||
    compareBytes(a.to, b.to) ||
    compareBytes(a.from, b.from) ||
    compareBytes(a.kind, b.kind)
  );
}

/**
 * Whether a cluster running `bundle` can upgrade, step by step, to `head` within `channel`:
 * a step goes to an entry that replaces or skips the running bundle, or whose skipRange
 * contains its version. The version of a bundle no longer in the catalog is its old one.
 */
export function reachesHead(
  channel: GraphChannel,
  bundle: string,
  head: string,
  versionOf: (name: string) => SemVer,
): boolean {
  const ranges = new Map<string, SemVerRange | undefined>();
  for (const e of channel.entries) {
    if (!e.skipRange) continue;
    try {
      ranges.set(e.name, parseSemVerRange(e.skipRange));
    } catch {
      ranges.set(e.name, undefined);
    }
  }
  const seen = new Set([bundle]);
  const queue = [bundle];
  while (queue.length > 0) {
    const cur = queue.shift()!;
    if (cur === head) return true;
    const v = versionOf(cur);
    for (const e of channel.entries) {
      if (seen.has(e.name)) continue;
      if (e.replaces === cur || e.skips.includes(cur) || ranges.get(e.name)?.(v)) {
        seen.add(e.name);
        queue.push(e.name);
      }
    }
  }
  return false;
}

function versions(...graphs: CatalogGraph[]) {
  return (name: string): SemVer => {
    for (const g of graphs) {
      const b = g.bundles.get(name);
      if (b) return tryParseSemVer(b.version) ?? ZERO_VERSION;
    }
    return ZERO_VERSION;
  };
}

function diffPackage(
  oldGraph: CatalogGraph,
  newGraph: CatalogGraph,
  o: GraphPackage | undefined,
  n: GraphPackage | undefined,
): PackageDiff {
  const name = (o ?? n)!.name;
  const oldChannels = new Map(o?.channels.map((c) => [c.name, c]));
  const newChannels = new Map(n?.channels.map((c) => [c.name, c]));
  const oldBundles = bundleNames(o);
  const newBundles = bundleNames(n);
  const oldEdges = channelEdges(oldGraph, o);
  const newEdges = channelEdges(newGraph, n);
  // Edges of channels that appeared or vanished are told by the channel change itself.
  const common = (e: DiffEdge) => oldChannels.has(e.channel) && newChannels.has(e.channel);
  const headsMoved: HeadMove[] = [];
  const pathsBroken: BrokenPath[] = [];
  const oldVersion = versions(oldGraph);
  const newVersion = versions(newGraph, oldGraph);
  for (const channelName of sorted(oldChannels.keys())) {
    const oc = oldChannels.get(channelName)!;
    const nc = newChannels.get(channelName);
    if (!nc) continue;
    const oldHead = channelHead(oc) ?? null;
    const newHead = channelHead(nc) ?? null;
    if (oldHead !== newHead) headsMoved.push({ channel: channelName, old: oldHead, new: newHead });
    if (!oldHead || !newHead) continue;
    const inNew = new Set(nc.entries.map((e) => e.name));
    for (const bundle of sorted(new Set(oc.entries.map((e) => e.name)))) {
      if (!reachesHead(oc, bundle, oldHead, oldVersion)) continue;
      if (reachesHead(nc, bundle, newHead, newVersion)) continue;
      pathsBroken.push({
        channel: channelName,
        bundle,
        oldHead,
        newHead,
        bundleRemoved: !inNew.has(bundle),
      });
    }
  }
  const defaultChanged = o && n && o.defaultChannel !== n.defaultChannel;
  return {
    name,
    status: !o ? 'added' : !n ? 'removed' : 'changed',
    defaultChannel: defaultChanged ? { old: o.defaultChannel, new: n.defaultChannel } : null,
    channelsAdded: sorted(minus(new Set(newChannels.keys()), new Set(oldChannels.keys()))),
    channelsRemoved: sorted(minus(new Set(oldChannels.keys()), new Set(newChannels.keys()))),
    headsMoved,
    bundlesAdded: sorted(minus(newBundles, oldBundles)),
    bundlesRemoved: sorted(minus(oldBundles, newBundles)),
    edgesAdded: [...newEdges.entries()]
      .filter(([k, e]) => !oldEdges.has(k) && common(e))
      .map(([, e]) => e)
      .sort(compareEdges),
    edgesRemoved: [...oldEdges.entries()]
      .filter(([k, e]) => !newEdges.has(k) && common(e))
      .map(([, e]) => e)
      .sort(compareEdges),
    pathsBroken,
  };
}

function isEmptyPackageDiff(d: PackageDiff): boolean {
  return (
    d.status === 'changed' &&
    !d.defaultChannel &&
    d.channelsAdded.length === 0 &&
    d.channelsRemoved.length === 0 &&
    d.headsMoved.length === 0 &&
    d.bundlesAdded.length === 0 &&
    d.bundlesRemoved.length === 0 &&
    d.edgesAdded.length === 0 &&
    d.edgesRemoved.length === 0 &&
    d.pathsBroken.length === 0
  );
}

const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The one-line summary used by the report's webhook payload and the CLI. */
export function summaryLine(s: DiffSummary): string {
  const parts: string[] = [];
  if (s.packagesAdded) parts.push(`+${count(s.packagesAdded, 'package')}`);
  if (s.packagesRemoved) parts.push(`-${count(s.packagesRemoved, 'package')}`);
  if (s.defaultChannelsChanged)
    parts.push(`${count(s.defaultChannelsChanged, 'default channel')} changed`);
  if (s.bundlesAdded || !s.bundlesRemoved) parts.push(`+${count(s.bundlesAdded, 'bundle')}`);
  if (s.bundlesRemoved) parts.push(`-${count(s.bundlesRemoved, 'bundle')}`);
  parts.push(`${count(s.headsMoved, 'head')} moved`);
  parts.push(`${count(s.pathsBroken, 'path')} broken`);
  return parts.join(', ');
}

export function diffCatalogs(
  oldGraph: CatalogGraph,
  newGraph: CatalogGraph,
  labels: { old: string; new: string } = { old: 'old', new: 'new' },
): CatalogDiff {
  const oldPkgs = new Map(oldGraph.packages.map((p) => [p.name, p]));
  const newPkgs = new Map(newGraph.packages.map((p) => [p.name, p]));
  const names = sorted(new Set([...oldPkgs.keys(), ...newPkgs.keys()]));
  const packages = names
    .map((name) => diffPackage(oldGraph, newGraph, oldPkgs.get(name), newPkgs.get(name)))
    .filter((d) => !isEmptyPackageDiff(d));
  const sum = (f: (d: PackageDiff) => number) => packages.reduce((a, d) => a + f(d), 0);
  const summary: DiffSummary = {
    packagesAdded: packages.filter((d) => d.status === 'added').length,
    packagesRemoved: packages.filter((d) => d.status === 'removed').length,
    packagesChanged: packages.filter((d) => d.status === 'changed').length,
    defaultChannelsChanged: packages.filter((d) => d.defaultChannel).length,
    channelsAdded: sum((d) => d.channelsAdded.length),
    channelsRemoved: sum((d) => d.channelsRemoved.length),
    headsMoved: sum((d) => d.headsMoved.length),
    bundlesAdded: sum((d) => d.bundlesAdded.length),
    bundlesRemoved: sum((d) => d.bundlesRemoved.length),
    edgesAdded: sum((d) => d.edgesAdded.length),
    edgesRemoved: sum((d) => d.edgesRemoved.length),
    pathsBroken: sum((d) => d.pathsBroken.length),
  };
  const empty = packages.length === 0;
  return {
    schemaVersion: DIFF_SCHEMA_VERSION,
    old: labels.old,
    new: labels.new,
    empty,
    summary,
    summaryText: empty ? 'no changes' : summaryLine(summary),
    packagesAdded: packages.filter((d) => d.status === 'added').map((d) => d.name),
    packagesRemoved: packages.filter((d) => d.status === 'removed').map((d) => d.name),
    packages,
  };
}

function edgeText(e: DiffEdge): string {
  const label = e.kind === 'skipRange' ? `skipRange(${e.range})` : e.kind;
  return `${e.channel}: ${e.from} -- ${label} --> ${e.to}`;
}

/** The diff for people, one change per line; ends with the summary line. */
export function renderDiffText(d: CatalogDiff): string {
  const lines = [`--- ${d.old}`, `+++ ${d.new}`];
  for (const p of d.packages) {
    if (p.status === 'added') {
      lines.push(
        `+ package ${p.name} (${count(p.channelsAdded.length, 'channel')}, ${count(p.bundlesAdded.length, 'bundle')})`,
      );
      continue;
    }
    if (p.status === 'removed') {
      lines.push(
        `- package ${p.name} (${count(p.channelsRemoved.length, 'channel')}, ${count(p.bundlesRemoved.length, 'bundle')})`,
      );
      continue;
    }
    lines.push(`~ package ${p.name}`);
    if (p.defaultChannel)
      lines.push(`    default channel: ${p.defaultChannel.old} -> ${p.defaultChannel.new}`);
    for (const c of p.channelsAdded) lines.push(`    + channel ${c}`);
    for (const c of p.channelsRemoved) lines.push(`    - channel ${c}`);
    for (const h of p.headsMoved)
      lines.push(`    head of ${h.channel}: ${h.old ?? '(none)'} -> ${h.new ?? '(none)'}`);
    for (const b of p.bundlesAdded) lines.push(`    + bundle ${b}`);
    for (const b of p.bundlesRemoved) lines.push(`    - bundle ${b}`);
    for (const e of p.edgesAdded) lines.push(`    + edge ${edgeText(e)}`);
    for (const e of p.edgesRemoved) lines.push(`    - edge ${edgeText(e)}`);
    for (const b of p.pathsBroken)
      lines.push(
        `    ! path broken in ${b.channel}: ${b.bundle}${b.bundleRemoved ? ' (removed)' : ''} can no longer reach the head ${b.newHead}${b.oldHead === b.newHead ? '' : ` (it reached ${b.oldHead})`}`,
      );
  }
  lines.push(d.empty ? 'No changes.' : `Summary: ${d.summaryText}`);
  return `${lines.join('\n')}\n`;
}
