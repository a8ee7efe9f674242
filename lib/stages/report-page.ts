// The report page (`GET /builds/{id}/report.html`): one self-contained HTML document built
// from the store alone — report.json, this build's index and the previous build's — with the
// summary, the failure if any, what changed (table and graphs with changes marked), every
// package's upgrade graph, the warnings and the stages. Graphs are inline SVG
// (lib/catalog/graph-svg.ts); there is no script, and a Content-Security-Policy that allows
// nothing from anywhere keeps the page from loading anything, from any host.
import type { CatalogGraph } from '../catalog/catalog-graph.js';
import { markedPackage } from '../catalog/diff-graph.js';
import { escapeXml, renderPackageSvg } from '../catalog/graph-svg.js';
import { graphOfStoredBuild } from '../catalog-source/read-catalog.js';
import { buildKeys } from '../store/keys.js';
import { getJson, type Store, StoreNotFoundError } from '../store/store.js';
import type { BuildReport } from './report.js';

const esc = escapeXml;

async function graphOf(store: Store, buildId: string): Promise<CatalogGraph | undefined> {
  return (await graphOfStoredBuild(store, buildId))?.graph;
}

const STYLE = `
body{font-family:system-ui,sans-serif;margin:24px;color:#1f2328;max-width:1400px}
h1{font-size:22px}h1 code{font-size:inherit}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top;font-size:13px}
th{background:#f6f8fa}.ok{color:#1a7f37}.bad{color:#cf222e}.graph{overflow-x:auto;border:1px solid #d0d7de;border-radius:6px;margin:8px 0;padding:4px}
code{font-size:12px}.summary{font-size:16px;padding:8px 12px;background:#f6f8fa;border-radius:6px;display:inline-block}
.legend span{margin-right:14px;font-size:12px}ul.warnings li{font-size:13px;margin:2px 0}details summary{cursor:pointer;margin:4px 0}`;

const LEGEND = `<p class="legend"><span style="color:#1a7f37">■ added</span><span style="color:#cf222e">■ removed</span><span>★ channel head</span><span>— replace</span><span>- - skip</span><span style="color:#0969da">··· skipRange</span></p>`;

export async function renderReportPage(store: Store, buildId: string): Promise<string | undefined> {
  let report: BuildReport;
  try {
    report = await getJson<BuildReport>(store, buildKeys(buildId).reportJson);
  } catch (err) {
    if (err instanceof StoreNotFoundError || err instanceof TypeError) return undefined;
    throw err;
  }
  const [graph, previous] = await Promise.all([
    graphOf(store, buildId),
    report.changes ? graphOf(store, report.changes.previousBuildId) : undefined,
  ]);
  const out: string[] = [];
  const ok = report.outcome === 'succeeded';
  out.push(
    `<h1>Catalog build <code>${esc(report.buildId)}</code>: <span class="${ok ? 'ok' : 'bad'}">${esc(report.outcome)}</span></h1>`,
    `<p class="summary" id="change-summary">${esc(report.changeSummary ?? '')}</p>`,
  );
  if (report.failure)
    out.push(
      `<p class="bad"><b>Failed in ${esc(report.failure.stage)}</b>: <code>${esc(report.failure.name)}</code> ${esc(report.failure.message)}</p>`,
    );
  const facts: Array<[string, string]> = [];
  const req = report.request;
  if (req?.appRegistry)
    facts.push(['Source', `App Registry ${req.appRegistry.endpoint} org ${req.appRegistry.org}`]);
  if (req?.manifestDir) facts.push(['Source', `manifests in ${req.manifestDir}`]);
  if (req?.from) facts.push(['Base image', req.from]);
  facts.push([
    'Packages',
    `${report.counts.packages} (${report.counts.downloaded} downloaded, ${report.counts.cached} already in the store); bundles: ${report.counts.bundles}; warnings: ${report.counts.warnings}`,
  ]);
  if (report.index)
    facts.push([
      'Index',
      `${report.index.key} ${report.index.digest} (${report.index.size} bytes)`,
    ]);
  if (report.push) facts.push(['Pushed', `${report.push.digest} to ${report.push.ref}`]);
  facts.push(['Compared with', report.previousBuildId ? `build ${report.previousBuildId}` : '—']);
  out.push(
    '<h2>Summary</h2><table>',
    ...facts.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`),
    '</table>',
  );

  const changes = report.changes;
  if (changes) {
    out.push(`<h2 id="changes">Changes since build ${esc(changes.previousBuildId)}</h2>`);
    if (changes.empty)
      out.push('<p>No changes: the catalog is the same as in the previous build.</p>');
    else {
      const s = changes.summary;
      const counts: Array<[string, number]> = [
        ['packages added', s.packagesAdded],
        ['packages removed', s.packagesRemoved],
        ['default channels changed', s.defaultChannelsChanged],
        ['heads moved', s.headsMoved],
        ['bundles added', s.bundlesAdded],
        ['bundles removed', s.bundlesRemoved],
        ['edges added', s.edgesAdded],
        ['edges removed', s.edgesRemoved],
        ['paths broken', s.pathsBroken],
      ];
      out.push(
        '<table id="change-counts"><tr>',
        ...counts.map(([k]) => `<th>${k}</th>`),
        '</tr><tr>',
        ...counts.map(
          ([k, n]) => `<td class="${k === 'paths broken' && n > 0 ? 'bad' : ''}">${n}</td>`,
        ),
        '</tr></table>',
      );
      out.push(
        '<table id="changed-packages"><tr><th>package</th><th>change</th><th>details</th></tr>',
      );
      for (const p of changes.packages) {
        const d: string[] = [];
        if (p.defaultChannel)
          d.push(`default channel ${esc(p.defaultChannel.old)} → ${esc(p.defaultChannel.new)}`);
        for (const c of p.channelsAdded) d.push(`+ channel ${esc(c)}`);
        for (const c of p.channelsRemoved) d.push(`− channel ${esc(c)}`);
        for (const h of p.headsMoved)
          d.push(`head of ${esc(h.channel)}: ${esc(h.old ?? '—')} → ${esc(h.new ?? '—')}`);
        for (const b of p.bundlesAdded) d.push(`<span class="ok">+ ${esc(b)}</span>`);
        for (const b of p.bundlesRemoved) d.push(`<span class="bad">− ${esc(b)}</span>`);
        if (p.edgesAdded.length || p.edgesRemoved.length)
          d.push(`edges +${p.edgesAdded.length} / −${p.edgesRemoved.length}`);
        for (const b of p.pathsBroken)
          d.push(
            `<b class="bad">path broken</b> in ${esc(b.channel)}: ${esc(b.bundle)} cannot reach ${esc(b.newHead)}`,
          );
        out.push(
          `<tr><td>${esc(p.name)}</td><td>${esc(p.status)}</td><td>${d.join('<br>')}</td></tr>`,
        );
      }
      out.push('</table>', LEGEND);
      if (graph && previous)
        for (const p of changes.packages)
          out.push(
            `<h3>${esc(p.name)}</h3><div class="graph changed">${renderPackageSvg(markedPackage(previous, graph, p.name))}</div>`,
          );
    }
  }

  if (graph && graph.packages.length > 0) {
    out.push(`<h2 id="graphs">Upgrade graphs (${graph.packages.length} packages)</h2>`);
    if (!changes) out.push(LEGEND);
    for (const p of graph.packages)
      out.push(
        `<details class="package-graph"${graph.packages.length <= 12 ? ' open' : ''}><summary>${esc(p.name)} <small>(default channel ${esc(p.defaultChannel || '—')})</small></summary><div class="graph">${renderPackageSvg(markedPackage(undefined, graph, p.name))}</div></details>`,
      );
  }
  if (report.warnings.length > 0) {
    out.push(`<h2 id="warnings">Warnings (${report.warnings.length})</h2><ul class="warnings">`);
    for (const w of report.warnings) out.push(`<li>${esc(w)}</li>`);
    out.push('</ul>');
  }
  out.push(
    '<h2>Stages</h2><table><tr><th>stage</th><th>outcome</th><th>runs</th><th>duration (ms)</th></tr>',
  );
  for (const st of report.stages)
    out.push(
      `<tr><td>${esc(st.stage)}</td><td class="${st.outcome === 'succeeded' ? 'ok' : 'bad'}">${esc(st.outcome)}${st.error ? ` (${esc(st.error.name)})` : ''}</td><td>${st.runs}</td><td>${st.durationMs}</td></tr>`,
    );
  out.push('</table>', `<p><small>Generated ${esc(report.generatedAt)}</small></p>`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Catalog build ${esc(report.buildId)}: ${esc(report.outcome)}</title>
<style>${STYLE}</style></head>
<body>
${out.join('\n')}
</body></html>
`;
}
