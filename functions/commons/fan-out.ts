// What a listing stage hands the state machine for its fan-out, shared by the package and the
// bundle listings so both Maps scale alike: the items inline only while the inline Map holds
// them — each item costs ~7 history events and a few bytes of state there, so 1,000 items
// stay near 7,000 of the 25,000 events (room for retries) and well under the 256 KB payload —
// above that only the key of the JSON array in the bucket, and infra/state-machine.asl.json
// fans out a Distributed Map reading it (docs/DEPLOY.md, "Org sizes").

/** The most items the inline Map fans out over. */
export const INLINE_MAP_MAX_ITEMS = 1000;

/** What the state machine keeps of a listing: the items only while the inline Map holds them. */
export function listingOutput<T>(items: readonly T[], itemsKey: string) {
  return {
    count: items.length,
    itemsKey,
    ...(items.length <= INLINE_MAP_MAX_ITEMS ? { names: items } : {}),
  };
}
