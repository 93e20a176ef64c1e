/**
 * The HTML report (`--html OUT.html`): one self-contained page — inline CSS, inline SVG, no
 * scripts, no external resources — with the terminal report's tables and five charts, each an
 * `<svg class="chart" data-chart="…">`: load per node (one bar per node), node × node heatmap
 * (one cell per node pair), node-affinity distribution, failures by errno, time per phase.
 */
import type { Timings } from './metrics.js';
import { loadSummary, ranked, stepSummary } from './report.js';
import type { Results } from './runner.js';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const BAR_W = 560;

/** Horizontal bars, one `<rect class="bar">` per entry, labelled. */
function barChart(name: string, title: string, entries: readonly [string, number][], unit = ''): string {
  const row = 18;
  const labelW = 150;
  const h = Math.max(1, entries.length) * row + 8;
  const max = Math.max(0, ...entries.map((e) => e[1]));
  const bars = entries.map(([k, v], i) => {
    const w = max > 0 ? Math.max(v > 0 ? 1 : 0, (v / max) * (BAR_W - labelW - 70)) : 0;
    const y = 4 + i * row;
    return `<text x="${labelW - 6}" y="${y + 13}" text-anchor="end">${escapeHtml(k)}</text>` +
      `<rect class="bar" x="${labelW}" y="${y + 2}" width="${w.toFixed(1)}" height="${row - 5}"><title>${escapeHtml(`${k}: ${v}${unit}`)}</title></rect>` +
      `<text x="${(labelW + w + 4).toFixed(1)}" y="${y + 13}">${escapeHtml(String(v))}${unit}</text>`;
  });
  const empty = entries.length === 0 ? `<text x="${labelW}" y="16" class="none">none</text>` : '';
  return `<figure><figcaption>${escapeHtml(title)}</figcaption>` +
    `<svg class="chart" data-chart="${name}" xmlns="http://www.w3.org/2000/svg" width="${BAR_W}" height="${h}" viewBox="0 0 ${BAR_W} ${h}">${bars.join('')}${empty}</svg></figure>`;
}

/** Node × node heatmap: one `<rect class="cell">` per node pair. */
function heatmapChart(m: readonly number[][]): string {
  const n = m.length;
  const cell = Math.max(4, Math.floor(512 / Math.max(1, n)));
  const size = n * cell + 30;
  const max = Math.max(0, ...m.flat());
  const cells: string[] = [];
  for (let a = 0; a < n; a++) {
    for (let b = 0; b < n; b++) {
      const v = m[a][b];
      const shade = max > 0 ? v / max : 0;
      cells.push(`<rect class="cell" x="${30 + b * cell}" y="${30 + a * cell}" width="${cell}" height="${cell}" fill-opacity="${shade.toFixed(3)}"><title>nodes ${a} × ${b}: ${v}</title></rect>`);
    }
  }
  const ticks = Math.max(1, Math.ceil(n / 16));
  const labels: string[] = [];
  for (let i = 0; i < n; i += ticks) {
    labels.push(`<text x="${30 + i * cell + cell / 2}" y="22" text-anchor="middle">${i}</text>`);
    labels.push(`<text x="24" y="${30 + i * cell + cell / 2 + 4}" text-anchor="end">${i}</text>`);
  }
  return `<figure><figcaption>Node × node: node-affinity sets holding both nodes (darkest = ${max})</figcaption>` +
    `<svg class="chart" data-chart="node-pairs" xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 ${size} ${size}">${labels.join('')}${cells.join('')}</svg></figure>`;
}

function htmlTable(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const tr = (cells: readonly string[], tag: string) => `<tr>${cells.map((c) => `<${tag}>${escapeHtml(c)}</${tag}>`).join('')}</tr>`;
  return `<table>${tr(head, 'th')}${rows.map((r) => tr(r, 'td')).join('')}</table>`;
}

export function renderHtml(r: Results, timings: Timings, kernels: string): string {
  const failed = r.steps.filter((s) => !s.ok).length;
  const top = (t: Record<string, number>) => ranked(t).slice(0, 24);
  const body = [
    `<h1>affinity-engine · scenario “${escapeHtml(r.scenario)}”</h1>`,
    `<p>seed ${r.seed} · ${escapeHtml(kernels)} kernels · host: ${r.host.cpus} CPUs (${r.host.online} online), ${r.host.nodes} NUMA nodes · ` +
      `${r.steps.length} steps, ${r.steps.length - failed} ok, ${failed} failed</p>`,
    '<h2>Summary</h2>',
    htmlTable(['VMs placed on nodes', 'VMs'], top(r.metrics.placements).map(([k, v]) => [k || '(none)', String(v)])),
    htmlTable(['errno', 'failures'], ranked(r.metrics.failures).map(([k, v]) => [k, String(v)])),
    `<p>${escapeHtml(loadSummary(r.metrics.nodeLoad, r.host.online))}</p>`,
    '<h2>Charts</h2>',
    barChart('node-load', 'Load per node (vCPUs / LWPs)', r.metrics.nodeLoad.map((v, i) => [`node ${i}`, v])),
    heatmapChart(r.metrics.nodePairs),
    barChart('node-affinity', 'Node affinity: domains per node set', top(r.metrics.nodeAffinity).map(([k, v]) => [k || '(none)', v])),
    barChart('failures', 'Failures by errno', ranked(r.metrics.failures)),
    barChart('phases', 'Time per phase', [...timings].map(([op, t]) => [op, Number(t.ms.toFixed(2))]), ' ms'),
    '<h2>Steps</h2>',
    htmlTable(['#', 'op', 'label', 'ok', 'result'], r.steps.map((s) => [String(s.index), s.op, s.label ?? '', s.ok ? 'ok' : 'FAIL', stepSummary(s, 200)])),
  ];
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>affinity-engine: ${escapeHtml(r.scenario)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}
figure{margin:1em 0}figcaption{font-weight:600;margin-bottom:4px}
svg text{font:11px sans-serif;fill:#333}.bar{fill:#3a7bd5}.cell{fill:#b3261e}.none{fill:#999}
</style></head>
<body>
${body.join('\n')}
</body></html>
`;
}
