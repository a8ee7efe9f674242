// The upgrade graph of one FBC channel as operator-registry's model sees it (alpha/model,
// v1.26.5): the head is the one entry that no other entry's replaces/skips points at
// (pointers to names outside the channel do not count). Used by the serve cache (the
// channel's Head) and by validation (exactly one head, no cycle, nothing stranded).
import type { FbcChannelEntry } from './fbc-model.js';

/** Names of the entries nothing in the channel replaces or skips, sorted. */
export function channelHeads(entries: readonly FbcChannelEntry[]): string[] {
  const names = new Set(entries.map((e) => e.name));
  const incoming = new Set<string>();
  for (const e of entries) {
    if (e.replaces && names.has(e.replaces)) incoming.add(e.replaces);
    for (const s of e.skips ?? []) if (names.has(s)) incoming.add(s);
  }
  return [...names].filter((n) => !incoming.has(n)).sort();
}

/** The single head, or undefined when there is none or more than one. */
export function channelHead(entries: readonly FbcChannelEntry[]): string | undefined {
  const heads = channelHeads(entries);
  return heads.length === 1 ? heads[0] : undefined;
}
