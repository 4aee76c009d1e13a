/**
 * The built-in side effects: which events produce which outbox rows, keyed by what they are
 * about so that no delivery, redelivery or replay can produce a second one:
 * - `user.created` → `email.welcome` and `slack.signup`, key = the user id;
 * - an admin membership (`organizationMembership.created`/`.updated` with role `org:admin`, or
 *   the legacy `admin`) → `email.admin_welcome`, key = the membership id;
 * - `email.created` that Clerk did not deliver itself (`delivered_by_clerk: false`), with the
 *   relay on → `email.relay`, key = Clerk's email id.
 *
 * Stale events count (a `user.created` that lost to a newer `user.updated` still means someone
 * signed up), so the effects do not depend on arrival order. Backfilled events never fire any
 * (they describe the past), and nothing is sent about a user or membership already deleted.
 */
import type { Queryable } from '../core/db.js';
import { quoteIdentifier } from '../db/identifiers.js';
import { enqueueOutboxMany, type OutboxItem } from '../outbox/enqueue.js';
import type { ApplyStatus, StoredEvent } from '../projections/index.js';
import { BUILTIN_KINDS, type AdminWelcomeEmailData, type RelayEmailData, type SlackSignupData, type WelcomeEmailData } from '../core/sender.js';

export interface SideEffectRules {
  welcomeEmail: boolean;
  adminWelcomeEmail: boolean;
  slackSignup: boolean;
  emailRelay: boolean;
}

export const NO_SIDE_EFFECTS: SideEffectRules = { welcomeEmail: false, adminWelcomeEmail: false, slackSignup: false, emailRelay: false };

const ADMIN_ROLES = new Set(['org:admin', 'admin']);

type Data = Record<string, unknown>;
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const obj = (v: unknown): Data | null => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Data) : null);

export function anySideEffects(rules: SideEffectRules): boolean {
  return rules.welcomeEmail || rules.adminWelcomeEmail || rules.slackSignup || rules.emailRelay;
}

/** An effect, and the row whose deletion (anywhere in the batch or before) cancels it, if any. */
interface Candidate {
  item: OutboxItem;
  unlessDeleted: { table: 'users' | 'organization_memberships'; id: string } | null;
}

/** Enqueues the event's effects in `tx`; returns how many new rows were written. */
export async function enqueueSideEffects(tx: Queryable, schema: string, event: StoredEvent, status: ApplyStatus, rules: SideEffectRules): Promise<number> {
  return enqueueBatchSideEffects(tx, schema, [{ event, status }], rules);
}

/**
 * The effects of a whole applied batch, in `tx`, after all of its rows are written (so a delete
 * anywhere in the batch suppresses a welcome for the same user): one query per table for the
 * deletions, one insert for the rows. Returns how many new rows were written.
 */
export async function enqueueBatchSideEffects(tx: Queryable, schema: string, outcomes: ReadonlyArray<{ event: StoredEvent; status: ApplyStatus }>, rules: SideEffectRules): Promise<number> {
  if (!anySideEffects(rules)) return 0;
  const candidates = outcomes.flatMap(({ event, status }) => candidatesFor(event, status, rules));
  if (candidates.length === 0) return 0;
  const deleted = new Set<string>();
  for (const table of ['users', 'organization_memberships'] as const) {
    const ids = candidates.flatMap((c) => (c.unlessDeleted?.table === table ? [c.unlessDeleted.id] : []));
    if (ids.length === 0) continue;
    const result = await tx.query<{ id: string }>(`select id from ${quoteIdentifier(schema)}.${table} where id = any($1::text[]) and deleted_at is not null`, [ids]);
    for (const row of result.rows) deleted.add(`${table}:${row.id}`);
  }
  const items = candidates.filter((c) => !c.unlessDeleted || !deleted.has(`${c.unlessDeleted.table}:${c.unlessDeleted.id}`)).map((c) => c.item);
  return (await enqueueOutboxMany(tx, schema, items)).length;
}

function candidatesFor(event: StoredEvent, status: ApplyStatus, rules: SideEffectRules): Candidate[] {
  if (event.source === 'backfill' || status === 'ignored') return [];
  const data = obj(event.payload?.data);
  const id = str(data?.id);
  if (!data || !id) return [];
  const out: Candidate[] = [];
  const add = (kind: string, payload: unknown, unlessDeleted: Candidate['unlessDeleted']) => out.push({ item: { kind, key: id, payload, eventId: event.id }, unlessDeleted });

  if (event.type === 'user.created' && (rules.welcomeEmail || rules.slackSignup)) {
    const email = primaryEmail(data);
    const firstName = str(data.first_name);
    const lastName = str(data.last_name);
    const user = { table: 'users', id } as const;
    if (rules.welcomeEmail && email) {
      add(BUILTIN_KINDS.welcomeEmail, { to: email, userId: id, firstName, lastName, username: str(data.username) } satisfies WelcomeEmailData, user);
    }
    if (rules.slackSignup) {
      const name = `${firstName ?? ''} ${lastName ?? ''}`.trim() || str(data.username);
      add(BUILTIN_KINDS.slackSignup, { userId: id, name, email } satisfies SlackSignupData, user);
    }
  }

  if ((event.type === 'organizationMembership.created' || event.type === 'organizationMembership.updated') && rules.adminWelcomeEmail) {
    const role = str(data.role);
    const user = obj(data.public_user_data);
    const org = obj(data.organization);
    const to = str(user?.identifier);
    const userId = str(user?.user_id);
    if (role && ADMIN_ROLES.has(role) && to?.includes('@') && userId) {
      const payload: AdminWelcomeEmailData = {
        to,
        userId,
        membershipId: id,
        organizationId: str(org?.id) ?? '',
        organizationName: str(org?.name),
        role,
        firstName: str(user?.first_name),
        lastName: str(user?.last_name),
      };
      add(BUILTIN_KINDS.adminWelcomeEmail, payload, { table: 'organization_memberships', id });
    }
  }

  if (event.type === 'email.created' && rules.emailRelay && data.delivered_by_clerk === false) {
    const to = str(data.to_email_address);
    const subject = str(data.subject);
    if (to && subject) {
      const payload: RelayEmailData = { to, subject, html: str(data.body), text: str(data.body_plain), emailId: id, slug: str(data.slug), userId: str(data.user_id) };
      // A relayed email is sent whatever became of its user: Clerk asked for it to be delivered.
      add(BUILTIN_KINDS.emailRelay, payload, null);
    }
  }
  return out;
}

function primaryEmail(data: Data): string | null {
  const list = Array.isArray(data.email_addresses) ? data.email_addresses.map(obj).filter((e): e is Data => e !== null) : [];
  const primaryId = str(data.primary_email_address_id);
  const primary = list.find((e) => primaryId !== null && e.id === primaryId) ?? list[0];
  return str(primary?.email_address);
}

/** The rules to apply: those wanted whose kind has a sender here (built in or registered). */
export function effectiveRules(wanted: SideEffectRules, canSend: (kind: string) => boolean): SideEffectRules {
  return {
    welcomeEmail: wanted.welcomeEmail && canSend(BUILTIN_KINDS.welcomeEmail),
    adminWelcomeEmail: wanted.adminWelcomeEmail && canSend(BUILTIN_KINDS.adminWelcomeEmail),
    slackSignup: wanted.slackSignup && canSend(BUILTIN_KINDS.slackSignup),
    emailRelay: wanted.emailRelay && canSend(BUILTIN_KINDS.emailRelay),
  };
}
