// The content of builds/<id>/packages.json: what a build resolved from the App Registry,
// package → release → digest (DESIGN §3). The watcher compares it with the next listing,
// and a report can name exactly which blobs went into an index. Keys are sorted so the
// same downloads always give the same bytes.

export interface PackagesJson {
  endpoint: string;
  org: string;
  /** Repository name → release → `sha256:<hex>`. */
  packages: Record<string, Record<string, string>>;
}

export interface ResolvedPackage {
  name: string;
  release: string;
  digest: string;
}

export function buildPackagesJson(
  source: { endpoint: string; org: string },
  fetched: readonly ResolvedPackage[],
): PackagesJson {
  const packages: Record<string, Record<string, string>> = {};
  for (const p of [...fetched].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const hex = p.digest.replace(/^sha256:/, '');
    packages[p.name] = { ...packages[p.name], [p.release]: `sha256:${hex}` };
  }
  return { endpoint: source.endpoint, org: source.org, packages };
}
