// Walk 2 of operator-registry's DirectoryLoader: every file whose first document has a
// non-empty `packageName` is a package manifest; its channels and replaces/skips graph are
// added in one transaction, and ANY problem rolls the whole package back (v1.7.0+, hence oc
// 4.5/4.6) while the bundles of walk 1 stay. The graph walk reproduces upstream's insertion
// order exactly (head at depth 0; per skipped CSV an entry for it and a synthetic entry for
// the skipping CSV at the same depth; then the replaced CSV), so entry ids and depths match.
import type { ManifestTree } from './manifest-tree.js';
import type { Bundle, Channel, ChannelEntry, Package, Problem } from './model.js';
import { isObject, type JsonObject } from './yaml-document.js';

export interface PackageManifest {
  packageName: string;
  defaultChannel: string;
  channels: Channel[];
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
  constructor(
    private readonly manifest: PackageManifest,
    private readonly bundles: ReadonlyMap<string, Bundle>,
    private nextId: number,
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

  /** Channel rows and the default channel, as upstream inserts them (FK and PK checks included). */
  channels(): { channels: Channel[]; defaultChannel: string } {
    const m = this.manifest;
    const inserted: Channel[] = [];
    let defaultChannel = '';
    let hasDefault = false;
    for (const c of m.channels) {
      if (!this.bundles.has(c.head)) {
        this.errors.push('FOREIGN KEY constraint failed');
        continue;
      }
      if (inserted.some((i) => i.name === c.name)) {
        this.errors.push('UNIQUE constraint failed: channel.name, channel.package_name');
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
  walk(channel: Channel, channelExists: boolean): void {
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
        this.errors.push(`${channel.head} specifies replacement that couldn't be found`);
        return;
      }
      current = replaced;
      name = bundle.replaces;
      depth++;
    }
  }
}

/** Go's utilerrors.NewAggregate(...).Error(): one message bare, several in brackets, deduplicated. */
export function aggregateMessage(messages: string[]): string {
  const unique = [...new Set(messages)];
  return unique.length === 1 ? unique[0]! : `[${unique.join(', ')}]`;
}

export function loadPackages(
  tree: ManifestTree,
  bundles: readonly Bundle[],
): { packages: Package[]; problems: Problem[] } {
  const byName = new Map<string, Bundle>();
  for (const b of bundles) byName.set(b.name, b);
  const packages: Package[] = [];
  const problems: Problem[] = [];
  const committed = new Set<string>();
  let nextId = 1;
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
    if (committed.has(manifest.packageName)) {
      problems.push({
        subject: manifest.packageName,
        kind: 'package',
        message: 'UNIQUE constraint failed: package.name',
      });
      continue;
    }
    const load = new PackageLoad(manifest, byName, nextId);
    const { channels, defaultChannel } = load.channels();
    // Every channel of the manifest is walked, even one whose row failed (its entries then fail too).
    for (const c of manifest.channels)
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
    committed.add(manifest.packageName);
    nextId += load.entries.length;
    packages.push({
      name: manifest.packageName,
      defaultChannel,
      channels,
      entries: load.entries,
      path: file.path,
    });
  }
  return { packages, problems };
}
