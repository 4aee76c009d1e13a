/** The event log (filters, keyset pages), an event's detail, and the dead letters. */
import { html, query, type Html } from '../html.js';
import type { EventDetail, EventFilter, EventRow } from '../queries.js';
import { badge, time } from './layout.js';

const STATUSES = ['pending', 'applied', 'stale', 'ignored', 'failed', 'dead'];

export function replayButton(base: string, id: string, csrf: string, label = 'Replay'): Html {
  return html`<form method="post" action="${base}/events/${encodeURIComponent(id)}/replay" style="display:inline"><input type="hidden" name="csrf" value="${csrf}"><button type="submit" class="secondary" data-replay="${id}">${label}</button></form>`;
}

/** `compact` (half-width panels) leaves out source, status and attempts. */
export function eventTable(rows: readonly EventRow[], base: string, now: number, options: { csrf?: string; replay?: boolean; compact?: boolean; empty?: string } = {}): Html {
  if (rows.length === 0) return html`<div class="table"><div class="empty">${options.empty ?? 'No events match.'}</div></div>`;
  const full = !options.compact;
  return html`<div class="table"><table class="events"><thead><tr><th>Received</th><th>Type</th><th>Entity</th>${full ? html`<th>Source</th><th>Status</th><th class="num">Attempts</th>` : ''}<th>Last error</th>${options.replay ? html`<th></th>` : ''}</tr></thead><tbody>
${rows.map(
  (r) => html`<tr data-id="${r.id}"><td>${time(r.received_at, now)}</td><td><a href="${base}/events/${encodeURIComponent(r.id)}" class="mono">${r.type}</a></td>
<td class="mono">${r.entity_id ? html`<a href="${base}/lookup${query({ q: r.entity_id })}">${r.entity_id}</a>` : html`<span class="muted">—</span>`}</td>
${full ? html`<td>${badge(r.source)}</td><td>${badge(r.status)}</td><td class="num">${r.attempts}</td>` : ''}
<td>${r.last_error ? html`<span class="error-text" title="${r.last_error}">${r.last_error}</span>` : html`<span class="muted">—</span>`}</td>
${options.replay && options.csrf ? html`<td class="right">${replayButton(base, r.id, options.csrf)}</td>` : ''}</tr>`,
)}
</tbody></table></div>`;
}

export interface EventFilterForm {
  type?: string;
  status?: string;
  source?: string;
  from?: string;
  to?: string;
  entity?: string;
}

export function eventsPage(base: string, form: EventFilterForm, rows: readonly EventRow[], types: readonly string[], now: number, next: string | null): Html {
  return html`<h1>Events</h1>
<div class="panel"><form class="filters" method="get" action="${base}/events">
<label>Type<input name="type" list="event-types" value="${form.type ?? ''}" placeholder="any type"></label>
<datalist id="event-types">${types.map((t) => html`<option value="${t}">`)}</datalist>
<label>Status<select name="status"><option value="">any status</option>${STATUSES.map((s) => html`<option value="${s}" ${form.status === s ? 'selected' : ''}>${s}</option>`)}</select></label>
<label>Source<select name="source"><option value="">any source</option>${['webhook', 'backfill'].map((s) => html`<option value="${s}" ${form.source === s ? 'selected' : ''}>${s}</option>`)}</select></label>
<label>From (UTC)<input name="from" type="datetime-local" value="${form.from ?? ''}"></label>
<label>To (UTC)<input name="to" type="datetime-local" value="${form.to ?? ''}"></label>
<label>Entity id<input name="entity" value="${form.entity ?? ''}" placeholder="user_… / org_…"></label>
<button type="submit">Filter</button> <a class="button secondary" href="${base}/events">Reset</a>
</form></div>
${eventTable(rows, base, now)}
<div class="row" style="margin-top:12px"><span class="muted">${rows.length} shown, newest first</span>${next ? html`<a class="button secondary" href="${next}">Older →</a>` : ''}</div>`;
}

export function eventDetailPage(base: string, event: EventDetail, payloadJson: string, revealed: boolean, csrf: string, now: number): Html {
  const replayable = event.status === 'dead' || event.status === 'failed';
  return html`<div class="row"><h1 class="mono">${event.type} <span style="font-weight:400">${badge(event.status)}</span></h1>
<div>${replayable ? replayButton(base, event.id, csrf, 'Replay this event') : ''}</div></div>
<div class="grid2"><div class="panel"><dl class="kv">
<dt>Id</dt><dd class="mono">${event.id}</dd>
<dt>Entity</dt><dd class="mono">${event.entity_id ? html`<a href="${base}/lookup${query({ q: event.entity_id })}">${event.entity_id}</a>` : '—'}</dd>
<dt>Source</dt><dd>${badge(event.source)}</dd>
<dt>Instance</dt><dd class="mono">${event.instance_id ?? '—'}</dd>
<dt>Clerk timestamp</dt><dd>${event.clerk_timestamp ? time(new Date(Number(event.clerk_timestamp)), now) : '—'}</dd>
</dl></div><div class="panel"><dl class="kv">
<dt>Received</dt><dd>${time(event.received_at, now)}</dd>
<dt>Applied</dt><dd>${time(event.applied_at, now)}</dd>
<dt>Attempts</dt><dd>${event.attempts}</dd>
<dt>Next attempt</dt><dd>${event.status === 'pending' || event.status === 'failed' ? time(event.next_attempt_at, now) : '—'}</dd>
<dt>Last error</dt><dd class="mono">${event.last_error ?? '—'}</dd>
</dl></div></div>
<div class="row"><h2>Payload ${revealed ? html`<span class="badge b-failed">personal fields shown</span>` : html`<span class="badge b-stale">personal fields masked</span>`}</h2>
${revealed ? html`<a href="${base}/events/${encodeURIComponent(event.id)}">Mask personal fields</a>` : html`<a href="${base}/events/${encodeURIComponent(event.id)}?reveal=1">Show personal fields</a>`}</div>
<pre id="payload">${payloadJson}</pre>`;
}

export function deadPage(base: string, rows: readonly EventRow[], csrf: string, now: number): Html {
  return html`<div class="row"><h1>Dead letters</h1>${
    rows.length
      ? html`<form method="post" action="${base}/dead/replay"><input type="hidden" name="csrf" value="${csrf}">${rows.map((r) => html`<input type="hidden" name="id" value="${r.id}">`)}<button type="submit" class="danger">Replay all ${rows.length}</button></form>`
      : ''
  }</div>
<p class="muted">Events that failed every attempt. Fix the cause (the last error says what), then replay: the event goes back to pending and the worker applies it with the same ordering rules.</p>
${eventTable(rows, base, now, { csrf, replay: true })}`;
}

export function parseFilter(params: URLSearchParams): { filter: EventFilter; form: EventFilterForm } {
  const form: EventFilterForm = {};
  const filter: EventFilter = { limit: 50 };
  const text = (name: keyof EventFilterForm) => {
    const v = params.get(name)?.trim();
    if (v) form[name] = v.slice(0, 200);
    return form[name];
  };
  filter.type = text('type');
  const status = text('status');
  if (status && STATUSES.includes(status)) filter.status = status;
  const source = text('source');
  if (source === 'webhook' || source === 'backfill') filter.source = source;
  filter.entity = text('entity');
  const date = (v: string | undefined) => {
    if (!v) return undefined;
    const d = new Date(/Z|[+-]\d\d:?\d\d$/.test(v) ? v : `${v}Z`);
    return Number.isNaN(d.getTime()) ? undefined : d;
  };
  filter.from = date(text('from'));
  filter.to = date(text('to'));
  const before = params.get('before');
  if (before) {
    const sep = before.indexOf('~');
    const at = before.slice(0, sep);
    if (sep > 0 && date(at)) filter.before = { at, id: before.slice(sep + 1) };
  }
  return { filter, form };
}

export function nextPageLink(base: string, form: EventFilterForm, rows: readonly EventRow[], limit: number): string | null {
  const last = rows.at(-1);
  if (!last || rows.length < limit) return null;
  return `${base}/events${query({ ...form, before: `${last.received_key}~${last.id}` })}`;
}
