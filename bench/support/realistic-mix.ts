/**
 * A deterministic backlog shaped like a real Clerk instance's webhook traffic, for bench/apply.ts.
 *
 * Bodies are the captured fixtures (test/fixtures/clerk-payloads, else src/clerk/examples) with
 * ids, references and times rewritten, and users filled in as real ones are (two email addresses,
 * a phone, a Google account, metadata), so the average body is what the apply path parses and
 * stores in production, not a 300-byte stub. Events are spread over a population (by default
 * 20,000 users, 2,000 organizations, 30,000 memberships) that is already projected before the
 * backlog arrives, with activity skewed towards a few busy users and organizations: most events
 * update existing rows, and several of one batch are often about the same row. Then one pair in
 * ten is swapped and one event in fifty arrives up to 200 places late, because Svix does not
 * promise order: those are the stale events.
 */
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { InboxItem } from '../../src/inbox/enqueue.js';
import { seededRandom } from '../../test/support/seeded-random.js';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/clerk-payloads/', import.meta.url));
const EXAMPLES = fileURLToPath(new URL('../../src/clerk/examples/', import.meta.url));

/**
 * Share of each event type in the backlog, in percent: a B2B app's week, where profile updates
 * (every sign-in bumps last_sign_in_at/last_active_at) and the session lifecycle dominate, then
 * memberships. Every projected type appears (bench/apply.ts checks the list against the registry).
 */
export const WEIGHTS: Readonly<Record<string, number>> = {
  'user.updated': 28,
  'session.created': 12,
  'session.ended': 7,
  'session.removed': 3,
  'session.revoked': 1,
  'session.pending': 1,
  'organizationMembership.created': 8,
  'organizationMembership.updated': 6,
  'organizationMembership.deleted': 2,
  'user.created': 5,
  'user.deleted': 0.5,
  'organization.created': 0.6,
  'organization.updated': 3,
  'organization.deleted': 0.1,
  'role.created': 0.1,
  'role.updated': 0.2,
  'role.deleted': 0.05,
  'permission.created': 0.1,
  'permission.updated': 0.2,
  'permission.deleted': 0.05,
  'organizationInvitation.created': 2,
  'organizationInvitation.accepted': 1.2,
  'organizationInvitation.revoked': 0.3,
  'invitation.created': 0.6,
  'invitation.accepted': 0.3,
  'invitation.revoked': 0.1,
  'organizationDomain.created': 0.1,
  'organizationDomain.updated': 0.1,
  'organizationDomain.deleted': 0.05,
  'waitlistEntry.created': 0.3,
  'waitlistEntry.updated': 0.1,
  'email.created': 4,
  'sms.created': 0.5,
  'subscription.created': 0.3,
  'subscription.updated': 0.3,
  'subscription.active': 0.3,
  'subscription.pastDue': 0.05,
  'subscriptionItem.created': 0.3,
  'subscriptionItem.updated': 0.3,
  'subscriptionItem.active': 0.3,
  'subscriptionItem.canceled': 0.1,
  'subscriptionItem.upcoming': 0.1,
  'subscriptionItem.ended': 0.1,
  'subscriptionItem.abandoned': 0.05,
  'subscriptionItem.incomplete': 0.05,
  'subscriptionItem.pastDue': 0.05,
  'subscriptionItem.freeTrialEnding': 0.05,
  'subscriptionItem.expired': 0.05,
  'paymentAttempt.created': 0.8,
  'paymentAttempt.updated': 0.8,
};

export interface Population {
  users: number;
  organizations: number;
  memberships: number;
}

type Json = Record<string, unknown>;


function template(type: string): Json {
  const file = existsSync(`${FIXTURES}${type}.json`) ? `${FIXTURES}${type}.json` : `${EXAMPLES}${type}.json`;
  if (!existsSync(file)) throw new Error(`no fixture or example for ${type}`);
  return JSON.parse(readFileSync(file, 'utf8')) as Json;
}

const T0 = 1_760_000_000_000;
const userId = (u: number) => `user_2pop${u.toString(36).padStart(6, '0')}Xq8LmNvB3kT`;
const orgId = (o: number) => `org_2pop${o.toString(36).padStart(5, '0')}Rf7HjKw9PzA`;
const membershipId = (m: number) => `orgmem_2pop${m.toString(36).padStart(6, '0')}Yt4GcVs`;

/** A user as Clerk sends it for an active account: what makes user events 2-3 KB. */
function userData(base: Json, u: number, created: number, updated: number): Json {
  const email = (n: number) => ({
    object: 'email_address',
    id: `idn_2pop${u.toString(36)}e${n}Wq7ZrT5mK`,
    email_address: n === 0 ? `person${u}@example-company.com` : `p${u}.private@gmail.com`,
    reserved: false,
    verification: { object: 'verification_from_oauth', status: 'verified', strategy: n === 0 ? 'email_code' : 'from_oauth_google', attempts: null, expire_at: null },
    linked_to: n === 1 ? [{ type: 'oauth_google', id: `idac_2pop${u.toString(36)}Gg3` }] : [],
    matches_sso_connection: false,
    created_at: created,
    updated_at: created,
  });
  return {
    ...base,
    id: userId(u),
    username: `person${u}`,
    first_name: `Person`,
    last_name: `Number ${u}`,
    primary_email_address_id: `idn_2pop${u.toString(36)}e0Wq7ZrT5mK`,
    primary_phone_number_id: `idn_2pop${u.toString(36)}p0Hd2`,
    email_addresses: [email(0), email(1)],
    phone_numbers: [
      {
        object: 'phone_number',
        id: `idn_2pop${u.toString(36)}p0Hd2`,
        phone_number: `+1555${String(1000000 + u).slice(-7)}`,
        reserved_for_second_factor: false,
        default_second_factor: false,
        reserved: false,
        verification: { object: 'verification_otp', status: 'verified', strategy: 'phone_code', attempts: 1, expire_at: created + 600_000 },
        linked_to: [],
        backup_codes: null,
        created_at: created,
        updated_at: created,
      },
    ],
    external_accounts: [
      {
        object: 'google_account',
        id: `idac_2pop${u.toString(36)}Gg3`,
        provider: 'oauth_google',
        identification_id: `idn_2pop${u.toString(36)}e1Wq7ZrT5mK`,
        provider_user_id: `1${String(u).padStart(20, '0')}`,
        approved_scopes: 'email https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/userinfo.profile openid profile',
        email_address: `p${u}.private@gmail.com`,
        first_name: 'Person',
        last_name: `Number ${u}`,
        image_url: 'https://img.clerk.com/eyJ0eXBlIjoicHJveHkiLCJzcmMiOiJodHRwczovL2xoMy5nb29nbGV1c2VyY29udGVudC5jb20vYS9BQ2c4b2NKIn0',
        username: '',
        public_metadata: {},
        label: null,
        verification: { object: 'verification_oauth', status: 'verified', strategy: 'oauth_google', attempts: null, expire_at: created + 600_000 },
        created_at: created,
        updated_at: created,
      },
    ],
    public_metadata: { role: u % 10 === 0 ? 'admin' : 'member', plan: u % 3 === 0 ? 'pro' : 'free', onboardingComplete: true },
    private_metadata: { stripeCustomerId: `cus_${u.toString(36)}Qm2`, referral: u % 5 === 0 ? 'partner' : null },
    unsafe_metadata: { theme: u % 2 ? 'dark' : 'light' },
    last_sign_in_at: updated,
    last_active_at: updated,
    created_at: created,
    updated_at: updated,
  };
}

export interface Mix {
  /** Applied before the clock starts: the rows the backlog updates. */
  population: InboxItem[];
  backlog: InboxItem[];
}

export function realisticMix(events: number, population: Population, seed = 1): Mix {
  const rnd = seededRandom(seed);
  const templates = new Map(Object.keys(WEIGHTS).map((t) => [t, template(t)]));
  const item = (id: string, type: string, t: number, data: Json): InboxItem => {
    const envelope = { ...templates.get(type)!, type, timestamp: t, instance_id: 'ins_2popBenchInstance0000', data };
    return { id, type, clerkTimestamp: t, instanceId: 'ins_2popBenchInstance0000', payload: JSON.stringify(envelope), source: 'webhook' };
  };
  const dataOf = (type: string) => templates.get(type)!.data as Json;
  const born = T0 - 86_400_000;

  const pop: InboxItem[] = [];
  let seq = 0;
  const msgId = () => `msg_2pop${(seq++).toString(36).padStart(8, '0')}Bk`;
  const membershipData = (type: string, m: number, created: number, updated: number, role: string): Json => {
    const base = dataOf(type);
    const o = m % population.organizations;
    const u = (m * 7919) % population.users;
    return {
      ...base,
      id: membershipId(m),
      role,
      organization: { ...(base.organization as Json), id: orgId(o), name: `Organization ${o}`, slug: `organization-${o}`, created_by: userId(o % population.users), created_at: born, updated_at: born },
      public_user_data: { ...(base.public_user_data as Json), user_id: userId(u), first_name: 'Person', last_name: `Number ${u}`, identifier: `person${u}@example-company.com` },
      created_at: created,
      updated_at: updated,
    };
  };
  const orgData = (type: string, o: number, updated: number): Json => ({
    ...dataOf(type),
    id: orgId(o),
    name: `Organization ${o}`,
    slug: `organization-${o}`,
    created_by: userId(o % population.users),
    public_metadata: { tier: o % 4 === 0 ? 'enterprise' : 'team', region: 'eu' },
    private_metadata: { billingId: `acct_${o.toString(36)}` },
    created_at: born,
    updated_at: updated,
  });
  for (let u = 0; u < population.users; u++) pop.push(item(msgId(), 'user.created', born + u, userData(dataOf('user.created'), u, born + u, born + u)));
  for (let o = 0; o < population.organizations; o++) pop.push(item(msgId(), 'organization.created', born + o, orgData('organization.created', o, born + o)));
  for (let m = 0; m < population.memberships; m++) pop.push(item(msgId(), 'organizationMembership.created', born + m, membershipData('organizationMembership.created', m, born + m, born + m, m % 9 ? 'org:member' : 'org:admin')));

  // Busy users and organizations: r² puts most activity on the first few percent of each pool.
  const skewed = (n: number) => Math.min(n - 1, Math.floor(n * rnd() * rnd()));
  const uniform = (n: number) => Math.floor(n * rnd());
  const types = Object.keys(WEIGHTS);
  const total = types.reduce((s, t) => s + WEIGHTS[t]!, 0);
  const cumulative: number[] = [];
  let acc = 0;
  for (const t of types) cumulative.push((acc += WEIGHTS[t]! / total));
  const pickType = () => {
    const r = rnd();
    const i = cumulative.findIndex((c) => r < c);
    return types[i === -1 ? types.length - 1 : i]!;
  };

  let users = population.users;
  let organizations = population.organizations;
  let memberships = population.memberships;
  const sessions: string[] = [];
  /** Other entities, by family (the part of the type before the dot), created in the backlog. */
  const others = new Map<string, string[]>();
  const timed: InboxItem[] = [];
  for (let i = 0; i < events; i++) {
    const type = pickType();
    const t = T0 + i * 20;
    const [family, action] = type.split('.') as [string, string];
    let data: Json;
    if (family === 'user') {
      if (action === 'created') data = userData(dataOf(type), users, t, t), users++;
      else if (action === 'deleted') data = { ...dataOf(type), id: userId(uniform(users)) };
      else {
        const u = skewed(users);
        data = userData(dataOf(type), u, born + u, t);
      }
    } else if (family === 'organization') {
      if (action === 'created') data = orgData(type, organizations++, t);
      else if (action === 'deleted') data = { ...dataOf(type), id: orgId(uniform(organizations)) };
      else data = orgData(type, skewed(organizations), t);
    } else if (family === 'organizationMembership') {
      if (action === 'created') data = membershipData(type, memberships++, t, t, 'org:member');
      else data = membershipData(type, skewed(memberships), born, t, action === 'updated' && rnd() < 0.5 ? 'org:admin' : 'org:member');
    } else if (family === 'session') {
      const base = dataOf(type);
      const u = skewed(users);
      let id: string;
      if (action === 'created' || sessions.length === 0) {
        id = `sess_2pop${sessions.length.toString(36).padStart(7, '0')}Lk9`;
        sessions.push(id);
      } else id = sessions[sessions.length - 1 - Math.min(sessions.length - 1, Math.floor(rnd() * 400))]!;
      data = { ...base, id, user_id: userId(u), client_id: `client_2pop${u.toString(36)}`, created_at: t, updated_at: t, last_active_at: t, expire_at: t + 604_800_000, abandon_at: t + 2_592_000_000 };
    } else {
      const base = dataOf(type);
      const ids = others.get(family) ?? [];
      others.set(family, ids);
      const creates = action === 'created' || ids.length === 0 || family === 'email' || family === 'sms';
      const id = creates ? `${String(base.id ?? family).split('_')[0]}_2pop${family}${ids.length.toString(36)}` : ids[uniform(ids.length)]!;
      if (creates) ids.push(id);
      data = { ...base, id, updated_at: t };
      if ('organization_id' in base) data.organization_id = orgId(skewed(organizations));
      if ('user_id' in base) data.user_id = userId(skewed(users));
      if ('created_at' in base && creates) data.created_at = t;
    }
    timed.push(item(msgId(), type, t, data));
  }
  for (let i = 0; i + 1 < timed.length; i += 10) [timed[i], timed[i + 1]] = [timed[i + 1]!, timed[i]!];
  for (let i = 0; i < timed.length; i += 50) {
    const to = Math.min(timed.length - 1, i + 1 + Math.floor(rnd() * 200));
    const [late] = timed.splice(i, 1);
    timed.splice(to, 0, late!);
  }
  return { population: pop, backlog: timed };
}
