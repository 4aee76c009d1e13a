import { describe, expect, it } from 'vitest';
import type { Db, QueryResult } from '../core/db.js';
import { InboxWriter } from './group-commit.js';
import type { InboxItem } from './enqueue.js';

/** A database whose inserts wait until released, counting how many are in flight at once. */
function heldDb() {
  const held: Array<() => void> = [];
  const state = { inFlight: 0, most: 0, batches: [] as number[] };
  const db = {
    kind: 'pg',
    async query<T>(_text: string, params?: readonly unknown[]): Promise<QueryResult<T>> {
      const rows = JSON.parse(params![0] as string) as Array<{ id: string }>;
      state.batches.push(rows.length);
      state.inFlight++;
      state.most = Math.max(state.most, state.inFlight);
      await new Promise<void>((resolve) => held.push(resolve));
      state.inFlight--;
      return { rows: rows.map((r) => ({ id: r.id })) as T[], rowCount: rows.length };
    },
  } as unknown as Db;
  const releaseAll = async () => {
    while (held.length > 0) {
      for (const release of held.splice(0)) release();
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  return { db, state, releaseAll };
}

const item = (id: string): InboxItem => ({ id, type: 'user.updated', clerkTimestamp: null, instanceId: null, payload: '{}' });

async function settle(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
}

describe('group commit in flight', () => {
  it('keeps two writes in flight while few deliveries queue', async () => {
    const { db, state, releaseAll } = heldDb();
    const writer = new InboxWriter(db, 'clerk', { maxInFlight: 6 });
    const writes = Array.from({ length: 10 }, (_, i) => writer.write(item(`msg_${i}`)));
    await settle();
    expect(state.most).toBe(2);
    await releaseAll();
    expect(await Promise.all(writes)).toEqual(Array(10).fill('stored'));
  });

  it('starts a write beyond the second only once 16 deliveries queue, up to maxInFlight', async () => {
    const { db, state, releaseAll } = heldDb();
    const writer = new InboxWriter(db, 'clerk', { maxInFlight: 4 });
    const first = [writer.write(item('msg_a')), writer.write(item('msg_b'))];
    await settle();
    const queued = Array.from({ length: 15 }, (_, i) => writer.write(item(`msg_${i}`)));
    await settle();
    expect(state.most).toBe(2);
    queued.push(writer.write(item('msg_16th')));
    await settle();
    expect(state.most).toBe(3);
    const more = Array.from({ length: 200 }, (_, i) => writer.write(item(`msg_more_${i}`)));
    await settle();
    expect(state.most).toBe(4);
    expect(state.batches.slice(2).every((n) => n >= 16)).toBe(true);
    await releaseAll();
    const results = await Promise.all([...first, ...queued, ...more]);
    expect(results.every((r) => r === 'stored')).toBe(true);
  });

  it('drops a queued delivery whose deadline passed before a write could take it, and writes the rest', async () => {
    const { db, state, releaseAll } = heldDb();
    const writer = new InboxWriter(db, 'clerk', { maxInFlight: 1 });
    const first = writer.write(item('msg_first'));
    await settle();
    const late = writer.write(item('msg_late'), performance.now() + 5);
    const patient = writer.write(item('msg_patient'), performance.now() + 60_000);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await releaseAll();
    expect(await Promise.all([first, late, patient])).toEqual(['stored', 'expired', 'stored']);
    // Only msg_patient went to the database after the first write.
    expect(state.batches).toEqual([1, 1]);
  });

  it('never exceeds maxInFlight 1', async () => {
    const { db, state, releaseAll } = heldDb();
    const writer = new InboxWriter(db, 'clerk', { maxInFlight: 1 });
    const writes = Array.from({ length: 50 }, (_, i) => writer.write(item(`msg_${i}`)));
    await settle();
    expect(state.most).toBe(1);
    await releaseAll();
    await Promise.all(writes);
    expect(state.most).toBe(1);
  });
});
