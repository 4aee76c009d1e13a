/**
 * The page frame of the admin: header, navigation and one stylesheet, inline so the page needs
 * no static file route and works under any mount path. No client JavaScript.
 */
import { html, unsafeHtml, type Html } from '../html.js';

const CSS = `
:root { --bg:#f6f7f9; --panel:#fff; --text:#1d2330; --muted:#667085; --line:#e4e7ec; --accent:#4f46e5; --accent-soft:#eef0ff;
  --ok:#067647; --ok-bg:#dcfae6; --warn:#b54708; --warn-bg:#fef0c7; --bad:#b42318; --bad-bg:#fee4e2; --info:#175cd3; --info-bg:#d1e9ff;
  --mute:#475467; --mute-bg:#f2f4f7; --violet:#6941c6; --violet-bg:#ebe9fe; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif; background:var(--bg); color:var(--text); }
a { color:var(--accent); text-decoration:none; } a:hover { text-decoration:underline; }
header { background:#111827; color:#fff; }
header .bar { max-width:1280px; margin:0 auto; display:flex; align-items:center; gap:28px; padding:0 24px; height:52px; }
header .brand { font-weight:650; letter-spacing:.2px; color:#fff; } header .brand span { color:#a5b4fc; font-weight:500; }
header nav { display:flex; gap:4px; flex:1; }
header nav a { color:#cbd5e1; padding:6px 10px; border-radius:6px; } header nav a:hover { background:#1f2937; color:#fff; text-decoration:none; }
header nav a.active { background:#374151; color:#fff; }
header form { margin:0; } header button { background:none; border:1px solid #4b5563; color:#e5e7eb; border-radius:6px; padding:4px 10px; cursor:pointer; }
main { max-width:1280px; margin:0 auto; padding:24px; }
h1 { font-size:20px; margin:0 0 16px; font-weight:650; } h1.mono { font-size:18px; } h2 { font-size:15px; margin:24px 0 10px; font-weight:650; }
.panel { background:var(--panel); border:1px solid var(--line); border-radius:10px; padding:16px; margin-bottom:16px; }
.cards { display:grid; grid-template-columns:repeat(auto-fit,minmax(160px,1fr)); gap:12px; margin-bottom:16px; }
.card { background:var(--panel); border:1px solid var(--line); border-radius:10px; padding:14px 16px; }
.card .label { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.4px; }
.card .value { font-size:24px; font-weight:650; margin-top:4px; font-variant-numeric:tabular-nums; }
.card.bad .value { color:var(--bad); } .card.warn .value { color:var(--warn); }
table { width:100%; border-collapse:collapse; background:var(--panel); }
.table { border:1px solid var(--line); border-radius:10px; overflow:auto; background:var(--panel); }
th, td { text-align:left; padding:8px 12px; border-bottom:1px solid var(--line); vertical-align:top; white-space:nowrap; }
td.wrap { white-space:normal; word-break:break-word; }
th { font-size:12px; color:var(--muted); font-weight:600; background:#fafbfc; text-transform:uppercase; letter-spacing:.3px; }
tbody tr:hover { background:#fafaff; } tbody tr:last-child td { border-bottom:0; }
.mono, code, pre { font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; font-size:12.5px; }
pre { background:#0f172a; color:#e2e8f0; padding:14px 16px; border-radius:8px; overflow:auto; margin:0; max-height:560px; }
.badge { display:inline-block; padding:1px 8px; border-radius:999px; font-size:12px; font-weight:600; line-height:18px; }
.b-applied,.b-sent,.b-ok { color:var(--ok); background:var(--ok-bg); } .b-pending { color:var(--info); background:var(--info-bg); }
.b-failed { color:var(--warn); background:var(--warn-bg); } .b-dead { color:var(--bad); background:var(--bad-bg); }
.b-stale,.b-ignored,.b-webhook { color:var(--mute); background:var(--mute-bg); } .b-backfill { color:var(--violet); background:var(--violet-bg); }
.b-deleted { color:var(--bad); background:var(--bad-bg); }
form.filters { display:flex; flex-wrap:wrap; gap:10px; align-items:flex-end; }
form.filters label { display:flex; flex-direction:column; gap:4px; font-size:12px; color:var(--muted); }
input, select { font:inherit; padding:6px 8px; border:1px solid #d0d5dd; border-radius:6px; background:#fff; min-width:140px; }
input:focus, select:focus { outline:2px solid var(--accent-soft); border-color:var(--accent); }
button, .button { font:inherit; font-weight:600; padding:6px 12px; border-radius:6px; border:1px solid var(--accent); background:var(--accent); color:#fff; cursor:pointer; }
.button.secondary, button.secondary { background:#fff; color:var(--text); border-color:#d0d5dd; }
button.danger { background:var(--bad); border-color:var(--bad); }
.muted { color:var(--muted); } .right { text-align:right; } .num { text-align:right; font-variant-numeric:tabular-nums; }
.row { display:flex; gap:16px; align-items:center; justify-content:space-between; flex-wrap:wrap; }
.grid2 { display:grid; grid-template-columns:minmax(0,1fr) minmax(0,1fr); gap:16px; }
dl.kv { display:grid; grid-template-columns:160px 1fr; gap:6px 16px; margin:0; } dl.kv dt { color:var(--muted); } dl.kv dd { margin:0; word-break:break-word; }
.notice { padding:10px 14px; border-radius:8px; margin-bottom:16px; background:var(--ok-bg); color:var(--ok); font-weight:550; }
.notice.error { background:var(--bad-bg); color:var(--bad); }
.empty { padding:28px; text-align:center; color:var(--muted); }
.error-text { color:var(--bad); max-width:360px; overflow:hidden; text-overflow:ellipsis; display:inline-block; vertical-align:bottom; }
.login { max-width:380px; margin:12vh auto; } .login .panel { padding:28px; } .login input { width:100%; margin:8px 0 16px; }
.chart svg { width:100%; height:auto; display:block; } .legend { display:flex; gap:14px; font-size:12px; color:var(--muted); margin-top:8px; }
.legend i { display:inline-block; width:10px; height:10px; border-radius:2px; margin-right:5px; vertical-align:-1px; }
@media (max-width: 860px) { .grid2 { grid-template-columns:1fr; } }
`;

export interface PageOptions {
  title: string;
  base: string;
  active?: 'overview' | 'events' | 'dead' | 'lookup' | 'outbox';
  csrf?: string;
  notice?: { text: string; error?: boolean };
}

export function page(options: PageOptions, body: Html): string {
  const nav: Array<[PageOptions['active'], string, string]> = [
    ['overview', '', 'Overview'],
    ['events', '/events', 'Events'],
    ['dead', '/dead', 'Dead letters'],
    ['lookup', '/lookup', 'Lookup'],
    ['outbox', '/outbox', 'Outbox'],
  ];
  const b = options.base;
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin"><title>${options.title} · clerk-sync admin</title><style>${unsafeHtml(CSS)}</style></head>
<body>${
    options.csrf === undefined
      ? ''
      : html`<header><div class="bar"><a class="brand" href="${b}">clerk-sync <span>admin</span></a><nav>${nav.map(
          ([key, path, label]) => html`<a href="${b}${path}" class="${key === options.active ? 'active' : ''}">${label}</a>`,
        )}</nav><form method="post" action="${b}/logout"><input type="hidden" name="csrf" value="${options.csrf}"><button type="submit">Log out</button></form></div></header>`
  }
<main>${options.notice ? html`<div class="notice${options.notice.error ? ' error' : ''}">${options.notice.text}</div>` : ''}${body}</main>
</body></html>`.value;
}

export function badge(status: string | null | undefined): Html {
  return html`<span class="badge b-${status ?? 'none'}">${status ?? '—'}</span>`;
}

export function time(value: Date | string | null | undefined, now: number): Html {
  if (!value) return html`<span class="muted">—</span>`;
  const d = value instanceof Date ? value : new Date(value);
  // A time no Date holds (a payload's timestamp of 1e16) is shown as it is, not a 500.
  if (Number.isNaN(d.getTime())) return html`<span class="muted">not a date (${String(value instanceof Date ? 'invalid' : value)})</span>`;
  const iso = d.toISOString();
  return html`<span title="${iso}">${iso.slice(0, 19).replace('T', ' ')}</span> <span class="muted">${ago(now - d.getTime())}</span>`;
}

export function ago(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 0) return 'in the future';
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

export function duration(seconds: number): string {
  if (seconds <= 0) return '0s';
  if (seconds < 60) return `${Math.round(seconds)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${Math.round(seconds % 60)}s`;
  return `${Math.floor(seconds / 3600)}h ${Math.floor((seconds % 3600) / 60)}m`;
}
