/** The overview, entity lookup, outbox and login pages. */
import type { BackfillStatus } from '../../backfill/state.js';
import type { QueueStats } from '../../metrics/queue-stats.js';
import { html, query, type Html } from '../html.js';
import type { EntityLookup, EventRow, MinuteBucket, OutboxRow } from '../queries.js';
import { eventsChart } from './chart.js';
import { eventTable } from './events.js';
import { badge, duration, time } from './layout.js';

function card(label: string, value: string | number, tone?: 'bad' | 'warn'): Html {
  return html`<div class="card ${tone ?? ''}"><div class="label">${label}</div><div class="value">${value}</div></div>`;
}

/** The latest backfill run, one line per listing (clerk.backfill_state). */
function backfillPanel(run: BackfillStatus | null): Html | string {
  if (!run) return '';
  const state = run.status === 'complete' ? `complete ${formatValue(run.finishedAt)}` : run.status === 'replaced' ? 'replaced' : run.holder ? `running (pid ${run.holder.pid} on ${run.holder.host})` : 'stopped: `clerk-sync backfill` continues it';
  const rows = [...run.listings].sort((a, b) => a.listing.localeCompare(b.listing));
  return html`<div class="panel"><h2 style="margin-top:0">Backfill <span class="mono">${run.id}</span></h2><p>Started ${formatValue(run.startedAt)}, ${run.requests} requests: ${state}</p>
<table><thead><tr><th>listing</th><th>listed</th><th>new</th><th>position</th></tr></thead><tbody>${rows.map(
    (l) => html`<tr><td class="mono">${l.listing}</td><td>${l.listed}</td><td>${l.stored}</td><td>${l.finishedAt ? 'done' : `${l.position}${l.total !== null ? ` of ${l.total}` : ''}${l.perOrganization ? ' organizations' : ''}`}</td></tr>`,
  )}</tbody></table></div>`;
}

export function overviewPage(base: string, stats: QueueStats, buckets: readonly MinuteBucket[], dead: readonly EventRow[], now: number, csrf: string, backfill: BackfillStatus | null = null): Html {
  const i = stats.inbox;
  const o = stats.outbox;
  return html`<h1>Overview</h1>
<div class="cards">
${card('Inbox pending', i.pending)}
${card('Retrying', i.retrying, i.retrying ? 'warn' : undefined)}
${card('Oldest pending', duration(i.oldestPendingAgeSeconds), i.oldestPendingAgeSeconds > 300 ? 'warn' : undefined)}
${card('Dead letters', i.dead, i.dead ? 'bad' : undefined)}
${card('Outbox pending', o.pending + o.retrying)}
${card('Outbox dead', o.dead, o.dead ? 'bad' : undefined)}
</div>
${backfillPanel(backfill)}
<div class="panel"><div class="row"><h2 style="margin-top:0">Events per minute</h2><a href="${base}/events">Event log →</a></div>${eventsChart(buckets, now)}</div>
<div class="grid2"><div><div class="row"><h2>Latest dead letters</h2><a href="${base}/dead">All dead letters →</a></div>${eventTable(dead, base, now, { csrf, replay: true, compact: true, empty: 'No dead letters.' })}</div>
<div><h2>Find a user or organization</h2><div class="panel"><form class="filters" method="get" action="${base}/lookup">
<label style="flex:1">User id, email address, organization id or slug<input name="q" placeholder="user_… or someone@example.com" style="width:100%"></label><button type="submit">Look up</button></form></div></div></div>`;
}

function rowTable(row: Record<string, unknown>, keys: readonly string[]): Html {
  return html`<dl class="kv">${keys.filter((k) => k in row).map((k) => html`<dt>${k}</dt><dd class="${k === 'id' ? 'mono' : ''}">${formatValue(row[k])}</dd>`)}</dl>`;
}

function formatValue(value: unknown): Html | string {
  if (value === null || value === undefined) return html`<span class="muted">—</span>`;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'not a date' : value.toISOString().replace('T', ' ').slice(0, 19);
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.length ? value.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).join(', ') : '—';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

const USER_FIELDS = ['id', 'primary_email', 'first_name', 'last_name', 'username', 'role', 'permissions', 'organization_id', 'is_active', 'onboarding_completed', 'banned', 'locked', 'created_at', 'updated_at', 'last_sign_in_at', 'deleted_at', 'synced_at'];
const ORG_FIELDS = ['id', 'name', 'slug', 'created_by', 'max_allowed_memberships', 'public_metadata', 'created_at', 'updated_at', 'deleted_at', 'synced_at'];

export function lookupPage(base: string, q: string, found: EntityLookup | null, now: number): Html {
  const form = html`<div class="panel"><form class="filters" method="get" action="${base}/lookup">
<label style="flex:1">User id, email address, organization id or slug<input name="q" value="${q}" style="width:100%" autofocus></label><button type="submit">Look up</button></form></div>`;
  if (!q) return html`<h1>Lookup</h1>${form}`;
  if (!found) return html`<h1>Lookup</h1>${form}<div class="panel empty">Nothing found for “${q}”.</div>`;
  const deleted = found.row?.deleted_at ? html` <span class="badge b-deleted">deleted</span>` : '';
  const isUser = found.kind === 'user';
  return html`<h1>Lookup</h1>${form}
<div class="grid2"><div class="panel"><div class="row"><h2 style="margin-top:0">${isUser ? 'User' : 'Organization'} <span class="mono">${found.id}</span>${deleted}</h2>
<a href="${base}/events${query({ entity: found.id })}">All events →</a></div>
${found.row ? rowTable(found.row, isUser ? USER_FIELDS : ORG_FIELDS) : html`<p class="muted">No row yet: only events mention this id.</p>`}</div>
<div class="panel"><h2 style="margin-top:0">Memberships</h2>${
    found.memberships.length
      ? html`<div class="table"><table><thead><tr><th>${isUser ? 'Organization' : 'User'}</th><th>Role</th><th>State</th></tr></thead><tbody>${found.memberships.map(
          (m) => html`<tr><td>${
            isUser
              ? html`<a class="mono" href="${base}/lookup${query({ q: String(m.organization_id) })}">${String(m.organization_id)}</a> ${m.organization_name ? html`<span class="muted">${String(m.organization_name)}</span>` : ''}`
              : html`<a class="mono" href="${base}/lookup${query({ q: String(m.user_id) })}">${String(m.user_id)}</a>`
          }</td><td class="mono">${String(m.role ?? '—')}</td><td>${m.deleted_at ? badge('deleted') : badge('ok')}</td></tr>`,
        )}</tbody></table></div>`
      : html`<p class="muted">None.</p>`
  }
${found.roles.length ? html`<h2>Roles</h2><div class="table"><table><thead><tr><th>Key</th><th>Name</th><th>Permissions</th></tr></thead><tbody>${found.roles.map((r) => html`<tr><td class="mono">${String(r.key)}</td><td>${String(r.name ?? '')}</td><td class="wrap mono">${formatValue(r.permissions)}</td></tr>`)}</tbody></table></div>` : ''}
${isUser ? html`<h2>Effective permissions</h2>${found.permissions.length ? html`<div class="table"><table><thead><tr><th>Organization</th><th>Permission</th></tr></thead><tbody>${found.permissions.map((p) => html`<tr><td class="mono">${p.organization_id}</td><td class="mono">${p.permission}</td></tr>`)}</tbody></table></div>` : html`<p class="muted">None.</p>`}` : ''}
</div></div>
<h2>Recent events</h2>${eventTable(found.events, base, now)}`;
}

export function outboxPage(base: string, stats: QueueStats, rows: readonly OutboxRow[], status: string | undefined, csrf: string, now: number): Html {
  const counts = stats.outbox.byStatus ?? {};
  return html`<div class="row"><h1>Outbox</h1>${
    stats.outbox.dead
      ? html`<form method="post" action="${base}/outbox/replay"><input type="hidden" name="csrf" value="${csrf}"><button type="submit" class="danger">Retry ${stats.outbox.dead} dead</button></form>`
      : ''
  }</div>
<div class="cards">${['pending', 'failed', 'dead', 'sent'].map((s) => card(s === 'failed' ? 'retrying' : s, counts[s] ?? 0, s === 'dead' && counts[s] ? 'bad' : s === 'failed' && counts[s] ? 'warn' : undefined))}
${card('Oldest waiting', duration(stats.outbox.oldestPendingAgeSeconds))}</div>
<div class="panel"><form class="filters" method="get" action="${base}/outbox"><label>Status<select name="status"><option value="">any status</option>${['pending', 'failed', 'dead', 'sent'].map((s) => html`<option value="${s}" ${status === s ? 'selected' : ''}>${s}</option>`)}</select></label><button type="submit">Filter</button></form></div>
${
  rows.length
    ? html`<div class="table"><table><thead><tr><th>Created</th><th>Kind</th><th>Key</th><th>Status</th><th class="num">Attempts</th><th>Next attempt</th><th>Sent</th><th>Event</th><th>Last error</th></tr></thead><tbody>${rows.map(
        (r) => html`<tr><td>${time(r.created_at, now)}</td><td class="mono">${r.kind}</td><td class="mono">${r.key}</td><td>${badge(r.status)}</td><td class="num">${r.attempts}</td>
<td>${r.status === 'pending' || r.status === 'failed' ? time(r.next_attempt_at, now) : '—'}</td><td>${time(r.sent_at, now)}</td>
<td class="mono">${r.event_id ? html`<a href="${base}/events/${encodeURIComponent(r.event_id)}">${r.event_id.slice(0, 28)}</a>` : '—'}</td>
<td>${r.last_error ? html`<span class="error-text" title="${r.last_error}">${r.last_error}</span>` : html`<span class="muted">—</span>`}</td></tr>`,
      )}</tbody></table></div>`
    : html`<div class="table"><div class="empty">The outbox is empty.</div></div>`
}`;
}

export function loginPage(base: string, error?: string): Html {
  return html`<div class="login"><div class="panel"><h1>clerk-sync admin</h1>
<p class="muted">Sign in with the admin token (CLERK_SYNC_ADMIN_TOKEN).</p>
${error ? html`<div class="notice error">${error}</div>` : ''}
<form method="post" action="${base}/login"><label for="token">Admin token</label><input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit" style="width:100%">Sign in</button></form></div></div>`;
}
