/**
 * A realistic stream of Clerk events for the end-to-end tests: one story told in chronological
 * order (roles and users are created, an organization invites and onboards members, a role
 * change, a departure, a deleted user and organization, sessions, email, billing), covering
 * every event type clerk-sync projects at least once.
 *
 * Each event starts from the bundled example of its type (src/clerk/examples, the shapes Clerk
 * documents) and gets the story's ids, names and times, so the payloads keep every field Clerk
 * sends while the rows they produce fit together.
 */
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';

const examplesDir = new URL('../../../src/clerk/examples/', import.meta.url);

type Json = Record<string, unknown>;

export interface StreamEvent {
  /** The svix id; a redelivery reuses it. */
  svixId: string;
  type: string;
  /** The exact JSON text Svix signs and sends. */
  body: string;
}

/** The people and organizations of the story, and what the synced tables must say about them. */
export const story = {
  acme: { id: 'org_e2eAcme', name: 'Acme Corporation', firstName: 'Acme Corp', slug: 'acme' },
  oldCo: { id: 'org_e2eOldCo', name: 'Old Co' },
  reportsPermission: 'org:reports:read',
  analystRole: { id: 'role_e2eAnalyst', key: 'org:analyst', name: 'Reports analyst' },
  users: {
    /** Admin; holds org:reports:read through the membership's own permissions. */
    ada: { id: 'user_e2eAda', first: 'Ada', last: 'Lovelace', email: 'ada.lovelace@acme.test', role: 'org:admin' },
    /** Custom role org:analyst, no permissions of her own: org:reports:read comes from the role. */
    bob: { id: 'user_e2eBob', first: 'Bob', last: 'Stone', email: 'bob@acme.test', role: 'org:analyst' },
    /** Joined as an analyst, then moved to org:member: the update must win over the older create. */
    cara: { id: 'user_e2eCara', first: 'Cara', last: 'Diaz', email: 'cara@acme.test', role: 'org:member' },
    /** Member whose user account was deleted: no longer listed, no access. */
    dan: { id: 'user_e2eDan', first: 'Dan', last: 'Gone', email: 'dan@acme.test', role: 'org:member' },
    /** Left the organization (membership deleted). */
    eve: { id: 'user_e2eEve', first: 'Eve', last: 'Left', email: 'eve@acme.test', role: 'org:member' },
  },
  /** Live members of Acme once the stream is applied, by first name. */
  acmeMembers: ['Ada', 'Bob', 'Cara'],
  pendingAcmeInvitations: 1,
} as const;

function example(type: string): Json {
  return JSON.parse(readFileSync(new URL(`${type}.json`, examplesDir), 'utf8')) as Json;
}

function newSvixId(): string {
  return `msg_${randomBytes(16).toString('base64url')}`;
}

/** Builds the stream: each `add` is one delivery, one minute after the previous one. */
class StreamBuilder {
  readonly events: StreamEvent[] = [];
  private clock = Date.parse('2026-01-05T09:00:00Z');
  private readonly createdAt = new Map<string, number>();

  add(type: string, patch: (data: Json) => Json = (d) => d): this {
    const envelope = example(type);
    this.clock += 60_000;
    const t = this.clock;
    const data = patch(structuredClone(envelope.data as Json));
    const id = String(data.id);
    // Times follow the story: created_at is the first time the object appeared, updated_at the
    // moment of this change (clerk-sync orders the versions of a row by it).
    if ('created_at' in data) {
      if (!this.createdAt.has(id)) this.createdAt.set(id, t);
      data.created_at = this.createdAt.get(id);
    }
    if ('updated_at' in data) data.updated_at = t;
    const event = { ...envelope, type, timestamp: t, data };
    this.events.push({ svixId: newSvixId(), type, body: JSON.stringify(event) });
    return this;
  }
}

interface Person {
  id: string;
  first: string;
  last: string;
  email: string;
}

function userData(p: Person, extra: Json = {}): (d: Json) => Json {
  return (d) => ({
    ...d,
    id: p.id,
    first_name: p.first,
    last_name: p.last,
    username: p.first.toLowerCase(),
    primary_email_address_id: `idn_${p.id}`,
    email_addresses: [
      {
        object: 'email_address',
        id: `idn_${p.id}`,
        email_address: p.email,
        reserved: false,
        verification: { object: 'verification_from_oauth', status: 'verified', strategy: 'from_oauth_google', attempts: null, expire_at: null },
        linked_to: [],
      },
    ],
    ...extra,
  });
}

function membership(id: string, orgId: string, orgName: string, p: Person, role: string, permissions: string[]): (d: Json) => Json {
  return (d) => ({
    ...d,
    id,
    role,
    role_name: role === 'org:admin' ? 'Admin' : role === 'org:analyst' ? story.analystRole.name : 'Member',
    permissions,
    organization: { ...(d.organization as Json), id: orgId, name: orgName, slug: orgName.toLowerCase().replace(/\W+/g, '-'), created_by: story.users.ada.id },
    public_user_data: { ...(d.public_user_data as Json), user_id: p.id, first_name: p.first, last_name: p.last, identifier: p.email },
  });
}

function invitation(id: string, email: string, status: string, userId?: string): (d: Json) => Json {
  return (d) => ({ ...d, id, email_address: email, organization_id: story.acme.id, role: 'org:member', status, ...(userId ? { user_id: userId } : {}) });
}

const payer =
  (p: Person) =>
  (d: Json): Json => ({ ...d, payer: { ...(d.payer as Json), user_id: p.id, first_name: p.first, last_name: p.last, email: p.email } });

/** The story, in the order Clerk would send it. */
export function buildStream(): StreamEvent[] {
  const { ada, bob, cara, dan, eve } = story.users;
  const acme = story.acme;
  const analyst = story.analystRole;
  const readReports = story.reportsPermission;
  const s = new StreamBuilder();

  // The instance's custom permission and role, defined in the Dashboard.
  s.add('permission.created', (d) => ({ ...d, id: 'perm_e2eReports', key: readReports, name: 'Read reports', description: 'See membership reports' }));
  s.add('permission.updated', (d) => ({ ...d, id: 'perm_e2eReports', key: readReports, name: 'Read reports', description: 'See and download membership reports' }));
  const rolePermission = { object: 'permission', id: 'perm_e2eReports', key: readReports, name: 'Read reports', type: 'user' };
  s.add('role.created', (d) => ({ ...d, id: analyst.id, key: analyst.key, name: 'Analyst', permissions: [rolePermission] }));

  // Sign-ups.
  // Ada signs up with one address and later makes another her primary one (user.updated).
  for (const p of [ada, bob, cara, dan, eve]) s.add('user.created', userData(p === ada ? { ...ada, email: 'ada@acme.test' } : p));
  s.add('session.created', (d) => ({ ...d, id: 'sess_e2eAda1', user_id: ada.id, status: 'active' }));
  s.add('email.created', (d) => ({ ...d, id: 'ema_e2eAda', user_id: ada.id, to_email_address: ada.email }));
  s.add('sms.created', (d) => ({ ...d, id: 'sms_e2eBob', user_id: bob.id }));

  // Ada creates Acme and invites her team.
  s.add('organization.created', (d) => ({ ...d, id: acme.id, name: acme.firstName, slug: acme.slug, created_by: ada.id }));
  s.add('organizationMembership.created', membership('orgmem_e2eAda', acme.id, acme.firstName, ada, 'org:admin', ['org:sys_memberships:manage', 'org:sys_profile:manage', readReports]));
  s.add('organizationDomain.created', (d) => ({ ...d, id: 'orgdmn_e2eAcme', organization_id: acme.id, name: 'acme.test' }));
  s.add('organizationDomain.updated', (d) => ({ ...d, id: 'orgdmn_e2eAcme', organization_id: acme.id, name: 'acme.test', enrollment_mode: 'automatic_suggestion' }));
  for (const [p, role] of [
    [bob, 'org:analyst'],
    [cara, 'org:analyst'],
    [dan, 'org:member'],
    [eve, 'org:member'],
  ] as const) {
    const invitationId = `orginv_e2e${p.first}`;
    s.add('organizationInvitation.created', invitation(invitationId, p.email, 'pending'));
    s.add('organizationInvitation.accepted', invitation(invitationId, p.email, 'accepted', p.id));
    s.add('organizationMembership.created', membership(`orgmem_e2e${p.first}`, acme.id, acme.firstName, p, role, role === 'org:analyst' ? [] : ['org:posts:read']));
  }
  s.add('organizationInvitation.created', invitation('orginv_e2eFrank', 'frank@acme.test', 'pending'));
  s.add('organizationInvitation.created', invitation('orginv_e2eGina', 'gina@acme.test', 'pending'));
  s.add('organizationInvitation.revoked', invitation('orginv_e2eGina', 'gina@acme.test', 'revoked'));

  // Profile and organization changes.
  s.add('user.updated', userData(ada));
  s.add('organization.updated', (d) => ({ ...d, id: acme.id, name: acme.name, slug: acme.slug, created_by: ada.id }));
  s.add('role.updated', (d) => ({ ...d, id: analyst.id, key: analyst.key, name: analyst.name, permissions: [rolePermission] }));
  s.add('organizationMembership.updated', membership('orgmem_e2eCara', acme.id, acme.name, cara, 'org:member', ['org:posts:read']));
  s.add('session.pending', (d) => ({ ...d, id: 'sess_e2eCara1', user_id: cara.id }));
  s.add('session.created', (d) => ({ ...d, id: 'sess_e2eBob1', user_id: bob.id, status: 'active' }));
  s.add('session.ended', (d) => ({ ...d, id: 'sess_e2eBob1', user_id: bob.id }));

  // Departures: Eve leaves Acme, Dan's account is deleted, Old Co is wound down.
  s.add('organizationMembership.deleted', membership('orgmem_e2eEve', acme.id, acme.name, eve, 'org:member', ['org:posts:read']));
  s.add('session.created', (d) => ({ ...d, id: 'sess_e2eDan1', user_id: dan.id, status: 'active' }));
  s.add('session.revoked', (d) => ({ ...d, id: 'sess_e2eDan1', user_id: dan.id }));
  s.add('session.removed', (d) => ({ ...d, id: 'sess_e2eEve1', user_id: eve.id }));
  s.add('user.deleted', (d) => ({ ...d, id: dan.id }));
  s.add('organization.created', (d) => ({ ...d, id: story.oldCo.id, name: story.oldCo.name, slug: 'old-co', created_by: ada.id }));
  s.add('organizationMembership.created', membership('orgmem_e2eAdaOld', story.oldCo.id, story.oldCo.name, ada, 'org:admin', [readReports]));
  s.add('organizationDomain.deleted', (d) => ({ ...d, id: 'orgdmn_e2eOldCo' }));
  s.add('organization.deleted', (d) => ({ ...d, id: story.oldCo.id }));
  s.add('role.created', (d) => ({ ...d, id: 'role_e2eLegacy', key: 'org:legacy', name: 'Legacy', permissions: [] }));
  s.add('role.deleted', (d) => ({ ...d, id: 'role_e2eLegacy' }));
  s.add('permission.deleted', (d) => ({ ...d, id: 'perm_e2eLegacy' }));

  // Instance invitations and the waitlist.
  s.add('waitlistEntry.created', (d) => ({ ...d, id: 'wle_e2eHeidi', email_address: 'heidi@example.test' }));
  s.add('waitlistEntry.updated', (d) => ({ ...d, id: 'wle_e2eHeidi', email_address: 'heidi@example.test' }));
  s.add('invitation.created', (d) => ({ ...d, id: 'inv_e2eIvan', email_address: 'ivan@example.test' }));
  s.add('invitation.accepted', (d) => ({ ...d, id: 'inv_e2eIvan', email_address: 'ivan@example.test' }));
  s.add('invitation.created', (d) => ({ ...d, id: 'inv_e2eJudy', email_address: 'judy@example.test' }));
  s.add('invitation.revoked', (d) => ({ ...d, id: 'inv_e2eJudy', email_address: 'judy@example.test' }));

  // Billing: Ada subscribes Acme to a plan, the item goes through its lifecycle.
  s.add('paymentAttempt.created', payer(ada));
  s.add('paymentAttempt.updated', payer(ada));
  s.add('subscription.created', payer(ada));
  for (const type of ['created', 'updated', 'active'] as const) s.add(`subscriptionItem.${type}`, payer(ada));
  s.add('subscription.active', payer(ada));
  s.add('subscription.updated', payer(ada));
  for (const type of ['canceled', 'upcoming', 'ended', 'abandoned', 'incomplete', 'pastDue', 'freeTrialEnding', 'expired'] as const) s.add(`subscriptionItem.${type}`, payer(ada));
  s.add('subscription.pastDue', payer(ada));
  return s.events;
}

/** Deterministic, so a failing order can be replayed with E2E_SEED. */
export { seededRandom } from '../../support/seeded-random.js';

export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Svix's retries: every delivery again, some twice, in a random order, with the same svix ids. */
export function redeliveries(events: readonly StreamEvent[], random: () => number): StreamEvent[] {
  const copies = events.flatMap((e) => (random() < 0.3 ? [e, e] : [e]));
  return shuffled(copies, random);
}
