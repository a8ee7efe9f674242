// Walk 2 of operator-registry's DirectoryLoader: every file whose first document has a
// non-empty `packageName` is a package manifest; its channels and replaces/skips graph are
// added in one transaction, and ANY problem rolls the whole package back (v1.7.0+, hence oc
// 4.5/4.6) while the bundles of walk 1 stay. The graph walk reproduces upstream's insertion
// order exactly (head at depth 0; per skipped CSV an entry for it and a synthetic entry for
// the skipping CSV at the same depth; then the replaced CSV), so entry ids and depths match.
// v1.26.5's differences are options of the same walk: a manifest whose packageName was
// loaded before replaces that package (its rows deleted first, ids restarting at max + 1), a
// failed channel row is not walked, every chain-node visit adds an olm.package property row,
// and the error texts are its own.
import type { ManifestTree } from './manifest-tree.js';
import type {
  Bundle,
  ChannelEntry,
  ChannelMember,
  LoaderRules,
  ManifestChannel,
  Package,
  PackageProperty,
  Problem,
} from './model.js';
import { packageProperty } from './properties.js';
import { isObject, type JsonObject } from './yaml-document.js';

export interface PackageManifest {
  packageName: string;
  defaultChannel: string;
  channels: ManifestChannel[];
}

/** encoding/json matches struct fields case-insensitively, the last matching key winning. */
function goField(obj: JsonObject, field: string): unknown {
  let value: unknown;
  const lower = field.toLowerCase();
  for (const [k, v] of Object.entries(obj)) if (k.toLowerCase() === lower) value = v;
  return value;
}

function goString(value: unknown, field: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') {
    // sigs.k8s.io/yaml keeps a YAML scalar's text for a string-typed target field.
    return String(value);
  }
  throw new Error(
    `json: cannot unmarshal ${Array.isArray(value) ? 'array' : 'object'} into Go struct field ${field} of type string`,
  );
}

/** Decodes a first document as registry.PackageManifest; throws as json.Unmarshal would. */
export function toPackageManifest(value: unknown): PackageManifest {
  if (value === null || value === undefined)
    return { packageName: '', defaultChannel: '', channels: [] };
  if (!isObject(value)) {
    const type = Array.isArray(value)
      ? 'array'
      : typeof value === 'bigint'
        ? 'number'
        : typeof value;
    throw new Error(
      `json: cannot unmarshal ${type} into Go value of type registry.PackageManifest`,
    );
  }
  const rawChannels = goField(value, 'channels');
  if (rawChannels !== undefined && rawChannels !== null && !Array.isArray(rawChannels)) {
    throw new Error(
      'json: cannot unmarshal object into Go struct field PackageManifest.channels of type []registry.PackageChannel',
    );
  }
  const channels = ((rawChannels as unknown[] | null | undefined) ?? []).map((c) => {
    if (c === null) return { name: '', head: '' };
    if (!isObject(c))
      throw new Error(
        'json: cannot unmarshal value into Go struct field PackageManifest.channels of type registry.PackageChannel',
      );
    return {
      name: goString(goField(c, 'name'), 'PackageChannel.name'),
      head: goString(goField(c, 'currentCSV'), 'PackageChannel.currentCSV'),
    };
  });
  return {
    packageName: goString(goField(value, 'packageName'), 'PackageManifest.packageName'),
    defaultChannel: goString(goField(value, 'defaultChannel'), 'PackageManifest.defaultChannel'),
    channels,
  };
}

class PackageLoad {
  readonly errors: string[] = [];
  readonly entries: ChannelEntry[] = [];
  readonly packageProperties: PackageProperty[] = [];
  constructor(
    private readonly manifest: PackageManifest,
    private readonly bundles: ReadonlyMap<string, Bundle>,
    private nextId: number,
    private readonly rules: LoaderRules,
  ) {}

  private addEntry(channel: string, bundleName: string, depth: number): ChannelEntry {
    const entry: ChannelEntry = {
      id: this.nextId++,
      channel,
      packageName: this.manifest.packageName,
      bundleName,
      depth,
    };
    this.entries.push(entry);
    return entry;
  }

  /** A failed channel row: v1.26.5 names the channel and package. */
  private channelError(c: ManifestChannel, cause: string): string {
    return this.rules === 'v1.26.5'
      ? `failed to add channel "${c.name}" in package "${this.manifest.packageName}": ${cause}`
      : cause;
  }

  /** Channel rows and the default channel, as upstream inserts them (FK and PK checks included). */
  channels(): { channels: ManifestChannel[]; defaultChannel: string } {
    const m = this.manifest;
    const inserted: ManifestChannel[] = [];
    let defaultChannel = '';
    let hasDefault = false;
    for (const c of m.channels) {
      if (!this.bundles.has(c.head)) {
        this.errors.push(this.channelError(c, 'FOREIGN KEY constraint failed'));
        continue;
      }
      if (inserted.some((i) => i.name === c.name)) {
        this.errors.push(
          this.channelError(c, 'UNIQUE constraint failed: channel.name, channel.package_name'),
        );
        continue;
      }
      inserted.push(c);
      if (c.name === m.defaultChannel || m.channels.length === 1) {
        hasDefault = true;
        defaultChannel = c.name;
      }
    }
    if (!hasDefault) this.errors.push(`no default channel specified for ${m.packageName}`);
    return { channels: inserted, defaultChannel };
  }

  /** The entries of one channel: the replaces chain from the head, with skips as side entries. */
  walk(channel: ManifestChannel, channelExists: boolean): void {
    if (!channelExists) {
      this.errors.push('FOREIGN KEY constraint failed');
      return;
    }
    let current = this.addEntry(channel.name, channel.head, 0);
    let name = channel.head;
    let depth = 1;
    const visited = new Set([name]);
    for (;;) {
      const bundle = this.bundles.get(name);
      if (!bundle) {
        this.errors.push(`no bundle found for bundlename ${name}`);
        return;
      }
      if (this.rules === 'v1.26.5') {
        this.packageProperties.push({
          bundleName: name,
          version: bundle.version,
          bundlePath: bundle.image ?? '',
          property: packageProperty(this.manifest.packageName, bundle.version),
        });
      }
      // Skips went through the operatorbundle.skips column: joined with ',' and split again.
      const joined = bundle.skips.join(',');
      for (const skip of joined === '' ? [] : joined.split(',')) {
        const skipped = this.addEntry(channel.name, skip, depth);
        const synthetic = this.addEntry(channel.name, name, depth);
        synthetic.replaces = skipped.id;
        depth++;
      }
      if (bundle.replaces === '') return;
      const replaced = this.addEntry(channel.name, bundle.replaces, depth);
      if (visited.has(bundle.replaces)) {
        this.errors.push(`Cycle detected, ${name} replaces ${bundle.replaces}`);
        return;
      }
      visited.add(bundle.replaces);
      current.replaces = replaced.id;
      if (!this.bundles.has(bundle.replaces)) {
        this.errors.push(
          this.rules === 'v1.26.5'
            ? `Invalid bundle ${channel.head}, replaces nonexistent bundle ${bundle.replaces}`
            : `${channel.head} specifies replacement that couldn't be found`,
        );
        return;
      }
      current = replaced;
      name = bundle.replaces;
      depth++;
    }
  }
}

/**
 * A channel's distinct bundles as operator-registry's ListBundles reads them back: chain
 * entries are the head (depth 0) and those reached through `replaces` pointers from it; a
 * chain entry's pointer names what its bundle replaces; every other entry with a pointer is
 * a synthetic skip entry naming what its bundle skips.
 */
export function channelMembers(
  entries: readonly ChannelEntry[],
  bundles: ReadonlyMap<string, Bundle>,
): ChannelMember[] {
  const byId = new Map(entries.map((e) => [e.id, e]));
  const chain = new Set<number>();
  for (const head of entries.filter((e) => e.depth === 0)) {
    let e: ChannelEntry | undefined = head;
    while (e && !chain.has(e.id)) {
      chain.add(e.id);
      e = e.replaces === undefined ? undefined : byId.get(e.replaces);
    }
  }
  const members = new Map<string, ChannelMember>();
  for (const e of entries) {
    let m = members.get(e.bundleName);
    if (!m) {
      const bundle = bundles.get(e.bundleName);
      m = {
        bundleName: e.bundleName,
        chainNode: false,
        replaces: '',
        skips: [],
        skipRange: bundle?.skipRange ?? '',
        loaded: bundle !== undefined,
      };
      members.set(e.bundleName, m);
    }
    const target = e.replaces === undefined ? undefined : byId.get(e.replaces);
    if (chain.has(e.id)) {
      m.chainNode = true;
      if (target) m.replaces = target.bundleName;
    } else if (target) m.skips.push(target.bundleName);
  }
  return [...members.values()];
}

/** Go's utilerrors.NewAggregate(...).Error(): one message bare, several in brackets, deduplicated. */
export function aggregateMessage(messages: string[]): string {
  const unique = [...new Set(messages)];
  return unique.length === 1 ? unique[0]! : `[${unique.join(', ')}]`;
}

function maxEntryId(packages: readonly Package[]): number {
  let max = 0;
  for (const p of packages) for (const e of p.entries) max = Math.max(max, e.id);
  return max;
}

export function loadPackages(
  tree: ManifestTree,
  bundles: readonly Bundle[],
  rules: LoaderRules = 'v1.8.0',
): { packages: Package[]; problems: Problem[] } {
  const byName = new Map<string, Bundle>();
  for (const b of bundles) byName.set(b.name, b);
  // The packages loaded so far by name, in load order: a package loaded again (v1.26.5) is
  // deleted and set anew, so it moves to the end as upstream's re-inserted rows do. A map
  // rather than an array searched and copied per manifest, which was quadratic in the
  // package count.
  const packages = new Map<string, Package>();
  let maxId = 0;
  const problems: Problem[] = [];
  for (const file of tree.files) {
    const doc = file.document;
    let manifest: PackageManifest;
    try {
      if (!doc.ok) throw new Error(doc.error);
      manifest = toPackageManifest(doc.value);
    } catch (err) {
      const msg = `could not decode contents of file ${file.path} into package: ${(err as Error).message}`;
      problems.push({ subject: file.path, kind: 'file', message: msg });
      continue;
    }
    if (manifest.packageName === '') continue;
    const earlier = packages.get(manifest.packageName);
    if (earlier && rules === 'v1.8.0') {
      problems.push({
        subject: manifest.packageName,
        kind: 'package',
        message: 'UNIQUE constraint failed: package.name',
      });
      continue;
    }
    // v1.26.5 first deletes the earlier package's rows; SQLite then numbers new entries from
    // the largest id left, plus one (ids of a rolled-back package are reused the same way).
    const lastId = earlier
      ? maxEntryId([...packages.values()].filter((p) => p !== earlier))
      : maxId;
    const load = new PackageLoad(manifest, byName, lastId + 1, rules);
    const { channels, defaultChannel } = load.channels();
    // v1.8.0 walks every channel of the manifest, even one whose row failed (its entries then
    // fail too); v1.26.5 walks only the channels it inserted.
    const walked = rules === 'v1.26.5' ? channels : manifest.channels;
    for (const c of walked)
      load.walk(
        c,
        channels.some((i) => i.name === c.name),
      );
    if (load.errors.length > 0) {
      problems.push({
        subject: manifest.packageName,
        kind: 'package',
        message: aggregateMessage(load.errors),
      });
      continue;
    }
    maxId = Math.max(lastId, ...load.entries.map((e) => e.id));
    packages.delete(manifest.packageName);
    packages.set(manifest.packageName, {
      name: manifest.packageName,
      defaultChannel,
      channels: channels.map((c) => ({
        ...c,
        members: channelMembers(
          load.entries.filter((e) => e.channel === c.name),
          byName,
        ),
      })),
      entries: load.entries,
      path: file.path,
      packageProperties: [...(earlier?.packageProperties ?? []), ...load.packageProperties],
    });
  }
  return { packages: [...packages.values()], problems };
}
