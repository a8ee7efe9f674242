// Makes a synthetic catalog of N renamed copies of a manifests directory, for measuring how
// the index build scales. Every CSV name and package name gets a per-copy suffix wherever it
// appears (metadata.name, replaces, skips, currentCSV, packageName), so each copy loads as
// distinct packages with the same graph shape instead of colliding with the original.
// Bundle-format packages (`<package>/<version>/metadata/annotations.yaml`) are renamed the
// same way: the package annotation's value is a package name, so the annotations, the CSV
// names with their replaces/skips, and olm.package properties and dependencies that name a
// copied package all get the copy's suffix (15 copies of bundles-dev ≈ 7,100 bundles).
// `--malformed` breaks one bundle of the last copy (its CSV is cut in half, so it no longer
// parses): the build must warn about that bundle and build the rest.
// Usage: node bench/make-synthetic-catalog.mjs SRC_DIR OUT_DIR COPIES [--malformed]
//        node bench/make-synthetic-catalog.mjs SRC_DIR OUT_DIR --packages N
//        (as many copies as it takes to reach N packages, e.g. 1000 or 5000)
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import yaml from 'js-yaml';

const args = process.argv.slice(2);
const malformed = args.includes('--malformed');
const [src, out, copiesArg, packagesArg] = args.filter((a) => a !== '--malformed');
if (!src || !out) {
  console.error('usage: make-synthetic-catalog.mjs SRC_DIR OUT_DIR (COPIES | --packages N)');
  process.exit(2);
}

async function listFiles(dir, rel = '') {
  const out = [];
  for (const e of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(dir, r)));
    else if (e.isFile()) out.push(r);
  }
  return out;
}

const files = await listFiles(src);
const texts = new Map();
for (const f of files) texts.set(f, await readFile(path.join(src, f), 'utf8'));

// Names to rename: CSV metadata.name values and packageName values (first document of each file).
const names = new Set();
const packageNames = new Set();
for (const text of texts.values()) {
  let doc;
  try {
    doc = yaml.load(text.split(/^---\s*$/m).find((d) => d.trim() !== '') ?? '', {
      schema: yaml.CORE_SCHEMA,
      json: true,
    });
  } catch {
    continue;
  }
  if (doc?.kind === 'ClusterServiceVersion' && typeof doc.metadata?.name === 'string')
    names.add(doc.metadata.name);
  if (typeof doc?.packageName === 'string') {
    names.add(doc.packageName);
    packageNames.add(doc.packageName);
  }
  const annotated = doc?.annotations?.['operators.operatorframework.io.bundle.package.v1'];
  if (typeof annotated === 'string' && annotated !== '') {
    names.add(annotated);
    packageNames.add(annotated);
  }
}
const copies =
  copiesArg === '--packages'
    ? Math.ceil(Number(packagesArg) / packageNames.size)
    : Number(copiesArg ?? 10);
if (!Number.isInteger(copies) || copies < 1) {
  console.error(`not a number of copies: ${copiesArg} ${packagesArg ?? ''}`);
  process.exit(2);
}
// Names are made of [A-Za-z0-9_.-]; renaming whole tokens of that alphabet found in the set
// is exact (no partial matches inside longer names) and linear in the input.
const token = /[\w.-]+/g;
const rename = (text, i) => text.replace(token, (m) => (names.has(m) ? `${m}-c${i}` : m));

// The file broken by --malformed: the first CSV of a bundle folder, in the last copy.
const broken = malformed
  ? [...texts.keys()].sort().find((f) => /\/manifests\/[^/]*clusterserviceversion\.yaml$/.test(f))
  : undefined;
if (malformed && !broken) {
  console.error(
    '--malformed: no bundle-format CSV (…/manifests/*clusterserviceversion.yaml) to break',
  );
  process.exit(2);
}

await rm(out, { recursive: true, force: true });
for (let i = 0; i < copies; i++) {
  for (const [f, text] of texts) {
    const target = path.join(out, `copy${String(i).padStart(3, '0')}`, f);
    await mkdir(path.dirname(target), { recursive: true });
    let content = i === 0 ? text : rename(text, i);
    // Cut inside a mapping, then an unclosed flow sequence: no YAML parser reads this.
    if (f === broken && i === copies - 1)
      content = `${content.slice(0, Math.floor(content.length / 2))}\n  broken: [\n`;
    await writeFile(target, content);
  }
}
console.log(
  `${copies} copies of ${files.length} files (${names.size} names renamed, ${copies * packageNames.size} packages)${broken ? `; broken: copy${String(copies - 1).padStart(3, '0')}/${broken}` : ''} in ${out}`,
);
