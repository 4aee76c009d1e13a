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
import { enqueueOutbox } from '../outbox/enqueue.js';
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

/** Enqueues the event's effects in `tx`; returns how many new rows were written. */
export async function enqueueSideEffects(tx: Queryable, schema: string, event: StoredEvent, status: ApplyStatus, rules: SideEffectRules): Promise<number> {
  if (event.source === 'backfill' || status === 'ignored' || !anySideEffects(rules)) return 0;
  const data = obj(event.payload?.data);
  const id = str(data?.id);
  if (!data || !id) return 0;
  const items: Array<{ kind: string; key: string; payload: unknown }> = [];

  if (event.type === 'user.created' && (rules.welcomeEmail || rules.slackSignup)) {
    if (await isDeleted(tx, schema, 'users', id)) return 0;
    const email = primaryEmail(data);
    const firstName = str(data.first_name);
    const lastName = str(data.last_name);
    if (rules.welcomeEmail && email) {
      items.push({ kind: BUILTIN_KINDS.welcomeEmail, key: id, payload: { to: email, userId: id, firstName, lastName, username: str(data.username) } satisfies WelcomeEmailData });
    }
    if (rules.slackSignup) {
      const name = `${firstName ?? ''} ${lastName ?? ''}`.trim() || str(data.username);
      items.push({ kind: BUILTIN_KINDS.slackSignup, key: id, payload: { userId: id, name, email } satisfies SlackSignupData });
    }
  }

  if ((event.type === 'organizationMembership.created' || event.type === 'organizationMembership.updated') && rules.adminWelcomeEmail) {
    const role = str(data.role);
    const user = obj(data.public_user_data);
    const org = obj(data.organization);
    const to = str(user?.identifier);
    const userId = str(user?.user_id);
    if (role && ADMIN_ROLES.has(role) && to?.includes('@') && userId && !(await isDeleted(tx, schema, 'organization_memberships', id))) {
      items.push({
        kind: BUILTIN_KINDS.adminWelcomeEmail,
        key: id,
        payload: {
          to,
          userId,
          membershipId: id,
          organizationId: str(org?.id) ?? '',
          organizationName: str(org?.name),
          role,
          firstName: str(user?.first_name),
          lastName: str(user?.last_name),
        } satisfies AdminWelcomeEmailData,
      });
    }
  }

  if (event.type === 'email.created' && rules.emailRelay && data.delivered_by_clerk === false) {
    const to = str(data.to_email_address);
    const subject = str(data.subject);
    if (to && subject) {
      items.push({
        kind: BUILTIN_KINDS.emailRelay,
        key: id,
        payload: { to, subject, html: str(data.body), text: str(data.body_plain), emailId: id, slug: str(data.slug), userId: str(data.user_id) } satisfies RelayEmailData,
      });
    }
  }

  let written = 0;
  for (const item of items) {
    if ((await enqueueOutbox(tx, schema, { ...item, eventId: event.id })) !== null) written++;
  }
  return written;
}

function primaryEmail(data: Data): string | null {
  const list = Array.isArray(data.email_addresses) ? data.email_addresses.map(obj).filter((e): e is Data => e !== null) : [];
  const primaryId = str(data.primary_email_address_id);
  const primary = list.find((e) => primaryId !== null && e.id === primaryId) ?? list[0];
  return str(primary?.email_address);
}

async function isDeleted(tx: Queryable, schema: string, table: 'users' | 'organization_memberships', id: string): Promise<boolean> {
  const result = await tx.query<{ deleted: boolean }>(`select deleted_at is not null as deleted from ${quoteIdentifier(schema)}.${table} where id = $1`, [id]);
  return result.rows[0]?.deleted === true;
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
