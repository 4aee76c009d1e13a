/** Events per minute by status, as a stacked bar chart in inline SVG (no script, no library). */
import type { MinuteBucket } from '../queries.js';
import { escapeHtml, html, unsafeHtml, type Html } from '../html.js';

const STATUS_COLORS: Array<[string, string]> = [
  ['applied', '#12b76a'],
  ['stale', '#98a2b3'],
  ['ignored', '#d0d5dd'],
  ['pending', '#2e90fa'],
  ['failed', '#f79009'],
  ['dead', '#f04438'],
];

export function eventsChart(buckets: readonly MinuteBucket[], now: number, minutes = 60): Html {
  const end = Math.floor(now / 60_000) * 60_000;
  const start = end - (minutes - 1) * 60_000;
  const columns = new Map<number, Map<string, number>>();
  for (const b of buckets) {
    const t = b.minute.getTime();
    if (t < start || t > end) continue;
    const col = columns.get(t) ?? new Map<string, number>();
    col.set(b.status, (col.get(b.status) ?? 0) + b.n);
    columns.set(t, col);
  }
  const max = Math.max(1, ...[...columns.values()].map((c) => [...c.values()].reduce((a, n) => a + n, 0)));
  const W = 960, H = 160, left = 40, bottom = 20, top = 8;
  const plotW = W - left - 8, plotH = H - bottom - top;
  const slot = plotW / minutes, bar = Math.max(2, slot - 3);
  const y = (v: number) => top + plotH - (v / max) * plotH;
  let svg = '';
  for (const frac of [0, 0.5, 1]) {
    const v = Math.round(max * frac);
    svg += `<line x1="${left}" x2="${W - 8}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#eaecf0"/>`;
    svg += `<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" font-size="11" fill="#667085" text-anchor="end">${v}</text>`;
  }
  for (let i = 0; i < minutes; i++) {
    const t = start + i * 60_000;
    const x = left + i * slot + (slot - bar) / 2;
    const col = columns.get(t);
    let acc = 0;
    const label = new Date(t).toISOString().slice(11, 16);
    if (col) {
      const parts: string[] = [];
      for (const [status, color] of STATUS_COLORS) {
        const n = col.get(status) ?? 0;
        if (!n) continue;
        parts.push(`${n} ${status}`);
        svg += `<rect x="${x.toFixed(1)}" y="${y(acc + n).toFixed(1)}" width="${bar.toFixed(1)}" height="${(y(acc) - y(acc + n)).toFixed(1)}" fill="${color}"><title>${escapeHtml(`${label} UTC: ${n} ${status}`)}</title></rect>`;
        acc += n;
      }
    }
    if (i % 10 === 0 || i === minutes - 1) svg += `<text x="${(x + bar / 2).toFixed(1)}" y="${H - 5}" font-size="11" fill="#667085" text-anchor="middle">${label}</text>`;
  }
  const total = buckets.reduce((a, b) => a + b.n, 0);
  return html`<div class="chart" role="img" aria-label="Events per minute by status, last ${minutes} minutes (${total} events)">
<svg viewBox="0 0 ${W} ${H}" xmlns="http://www.w3.org/2000/svg">${unsafeHtml(svg)}</svg>
<div class="legend">${STATUS_COLORS.map(([s, c]) => html`<span><i style="background:${c}"></i>${s}</span>`)}<span class="muted">UTC, last ${minutes} minutes, by time received</span></div></div>`;
}
