/**
 * The delivery half of each end-to-end test: the story's events once in order (a few in flight
 * at a time, as Svix sends them), then every one again, some twice, shuffled, with the same svix
 * ids (Svix's retries). Checks the answers and what reached the database.
 */
import { expect } from 'vitest';
import { buildStream, redeliveries, seededRandom, story, type StreamEvent } from './events.js';
import { deliverAll, type E2eDatabase } from './harness.js';

export interface Delivered {
  events: StreamEvent[];
  seed: number;
  firstPassMs: number;
  redeliveryMs: number;
  redelivered: number;
}

export async function deliverStory(webhookUrl: string, secret: string, db: E2eDatabase): Promise<Delivered> {
  const seed = process.env.E2E_SEED ? Number(process.env.E2E_SEED) : Math.floor(Math.random() * 2 ** 31);
  const random = seededRandom(seed);
  const events = buildStream();

  let started = Date.now();
  const first = await deliverAll(webhookUrl, secret, events, 4);
  const firstPassMs = Date.now() - started;
  for (const answer of first) {
    expect(answer, `${answer.type} ${answer.svixId} (seed ${seed})`).toMatchObject({ status: 200, body: { received: true, id: answer.svixId } });
    expect(answer.body.duplicate, `${answer.type} first delivery`).toBeUndefined();
  }

  const again = redeliveries(events, random);
  started = Date.now();
  const second = await deliverAll(webhookUrl, secret, again, 8);
  const redeliveryMs = Date.now() - started;
  for (const answer of second) {
    expect(answer, `${answer.type} redelivery (seed ${seed})`).toMatchObject({ status: 200, body: { received: true, id: answer.svixId, duplicate: true } });
  }

  // One inbox row per svix id, and inline mode applied each before answering: none is left
  // pending, failed or dead-lettered.
  const inbox = await db.query<{ status: string; n: number }>('select status, count(*)::int as n from clerk.webhook_events group by status order by status');
  const total = inbox.reduce((sum, r) => sum + r.n, 0);
  expect(total).toBe(events.length);
  expect(inbox.filter((r) => !['applied', 'stale', 'ignored'].includes(r.status)), `inbox statuses ${JSON.stringify(inbox)}`).toEqual([]);

  // The projection converged on the story, whatever the redelivery order.
  const users = await db.query<{ id: string; primary_email: string | null; deleted: boolean }>(
    'select id, primary_email, deleted_at is not null as deleted from clerk.users order by id',
  );
  const { ada, dan } = story.users;
  expect(users.find((u) => u.id === ada.id)).toMatchObject({ primary_email: ada.email, deleted: false });
  expect(users.find((u) => u.id === dan.id)).toMatchObject({ deleted: true });
  const orgs = await db.query<{ id: string; name: string; deleted: boolean }>('select id, name, deleted_at is not null as deleted from clerk.organizations order by id');
  expect(orgs).toEqual([
    { id: story.acme.id, name: story.acme.name, deleted: false },
    { id: story.oldCo.id, name: story.oldCo.name, deleted: true },
  ]);

  return { events, seed, firstPassMs, redeliveryMs, redelivered: again.length };
}
