// The operator-registry database schema at migration version 7 (operator-registry v1.8.0,
// what `oc adm catalog build` of OpenShift 4.5/4.6 wrote). Created directly in its final
// form rather than by replaying migrations 000–007: the registry-server checks only the
// version number and the columns it queries. Tables, columns and their order, keys, foreign
// keys (with their DEFERRABLE clauses), the unique index `pk` and the two cleanup triggers
// are as upstream's; api_provider/api_requirer keep their quoted names (a migration rebuilt
// them). Newer servers migrate this DB forward (008+) at start-up, as they did upstream's.

export const SCHEMA_VERSION = 7;

export const SCHEMA_V7: readonly string[] = [
  `CREATE TABLE schema_migrations (
  version bigint NOT NULL,
  timestamp DATETIME DEFAULT CURRENT_TIMESTAMP
)`,
  `CREATE TABLE api (
  group_name TEXT,
  version TEXT,
  kind TEXT,
  plural TEXT NOT NULL,
  PRIMARY KEY(group_name, version, kind)
)`,
  `CREATE TABLE operatorbundle (
  name TEXT PRIMARY KEY,
  csv TEXT,
  bundle TEXT,
  bundlepath TEXT, skiprange TEXT, version TEXT, replaces TEXT, skips TEXT)`,
  `CREATE TABLE package (
  name TEXT PRIMARY KEY,
  default_channel TEXT,
  FOREIGN KEY(name, default_channel) REFERENCES channel(package_name,name) ON DELETE CASCADE
)`,
  `CREATE TABLE channel (
  name TEXT,
  package_name TEXT,
  head_operatorbundle_name TEXT,
  PRIMARY KEY(name, package_name),
  FOREIGN KEY(head_operatorbundle_name) REFERENCES operatorbundle(name) ON DELETE CASCADE
)`,
  `CREATE TABLE channel_entry (
  entry_id INTEGER PRIMARY KEY,
  channel_name TEXT,
  package_name TEXT,
  operatorbundle_name TEXT,
  replaces INTEGER,
  depth INTEGER,
  FOREIGN KEY(replaces) REFERENCES channel_entry(entry_id) DEFERRABLE INITIALLY DEFERRED,
  FOREIGN KEY(channel_name, package_name) REFERENCES channel(name, package_name) ON DELETE CASCADE
)`,
  `CREATE TABLE related_image (
  image TEXT,
  operatorbundle_name TEXT,
  FOREIGN KEY(operatorbundle_name) REFERENCES operatorbundle(name) ON DELETE CASCADE
)`,
  ...['api_provider', 'api_requirer'].map(
    (table) => `CREATE TABLE IF NOT EXISTS "${table}" (
  group_name TEXT,
  version TEXT,
  kind TEXT,
  operatorbundle_name TEXT,
  operatorbundle_version TEXT,
  operatorbundle_path TEXT,
  FOREIGN KEY(operatorbundle_name, operatorbundle_version, operatorbundle_path) REFERENCES operatorbundle(name, version, bundlepath) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
  FOREIGN KEY(group_name, version, kind) REFERENCES api(group_name, version, kind) ON DELETE CASCADE
)`,
  ),
  'CREATE UNIQUE INDEX pk ON operatorbundle(name, version, bundlepath)',
  ...['api_provider', 'api_requirer'].map(
    (table) => `CREATE TRIGGER ${table}_cleanup
  AFTER DELETE ON ${table}
  WHEN NOT EXISTS (SELECT 1 FROM api_provider JOIN api_requirer WHERE
    (api_provider.group_name = OLD.group_name AND api_provider.version = OLD.version AND api_provider.kind = OLD.kind) OR
    (api_requirer.group_name = OLD.group_name AND api_requirer.version = OLD.version AND api_requirer.kind = OLD.kind))
  BEGIN
    DELETE FROM api WHERE group_name = OLD.group_name AND version = OLD.version AND kind = OLD.kind;
  END`,
  ),
];

/** Tables whose row counts a build reports, in the order upstream's documentation lists them. */
export const COUNTED_TABLES = [
  'package',
  'channel',
  'channel_entry',
  'operatorbundle',
  'api',
  'api_provider',
  'api_requirer',
  'related_image',
] as const;
