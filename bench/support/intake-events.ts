/**
 * Deliveries for the intake benchmark, built from the test fixtures (and the bundled examples for
 * the types without one): every projected event type, weighted like a live instance (mostly
 * user.updated, session lifecycle and memberships), with payloads the size real ones have. The
 * fixtures are the documentation examples, leaner than production: a real user carries two email
 * addresses with their verifications, a phone number, an external account and metadata (2-4 KB),
 * a real session its latest activity. Every event gets a newer version than the last one of its
 * entity, so each is applied (none stale), whatever run came before on the same database.
 */
import { readFileSync, existsSync } from 'node:fs';
import { EVENT_TYPES } from '../../src/projections/index.js';

type Json = Record<string, unknown>;

/** Relative weights; every other projected type weighs 1. */
const WEIGHTS: Record<string, number> = {
  'user.updated': 30,
  'session.created': 12,
  'session.ended': 6,
  'session.removed': 3,
  'session.revoked': 2,
  'organizationMembership.created': 6,
  'organizationMembership.updated': 6,
  'organizationMembership.deleted': 2,
  'user.created': 6,
  'organization.updated': 3,
  'organization.created': 1,
};

/** Distinct entities per kind (users, sessions, ...): events of one kind land on rows already there. */
const POOL = 20_000;

function template(type: string): Json {
  for (const dir of ['../../test/fixtures/clerk-payloads/', '../../src/clerk/examples/']) {
    const file = new URL(`${dir}${type}.json`, import.meta.url);
    if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as Json;
  }
  throw new Error(`No fixture or example for ${type}`);
}

function emailAddress(id: string, address: string): Json {
  return {
    id,
    object: 'email_address',
    email_address: address,
    reserved: false,
    linked_to: [{ id: `idn_oauth_${id}`, type: 'oauth_google' }],
    matches_sso_connection: false,
    verification: { status: 'verified', strategy: 'from_oauth_google', attempts: null, expire_at: null, object: 'verification_from_oauth' },
    created_at: 1716883200000,
    updated_at: 1716883300000,
  };
}

/** A user as a production instance sends it: 2-4 KB. */
function enrichUser(data: Json, n: number): void {
  const email = `member${n}@example-company.com`;
  data.email_addresses = [emailAddress(`idn_bench${n}a`, email), emailAddress(`idn_bench${n}b`, `m${n}.personal@gmail.com`)];
  data.primary_email_address_id = `idn_bench${n}a`;
  data.phone_numbers = [
    {
      id: `idn_bench${n}p`,
      object: 'phone_number',
      phone_number: `+1555${String(n).padStart(7, '0')}`,
      reserved_for_second_factor: true,
      default_second_factor: true,
      reserved: false,
      verification: { status: 'verified', strategy: 'phone_code', attempts: 1, expire_at: 1716884000000 },
      linked_to: [],
      backup_codes: null,
      created_at: 1716883200000,
      updated_at: 1716883300000,
    },
  ];
  data.primary_phone_number_id = `idn_bench${n}p`;
  data.external_accounts = [
    {
      object: 'google_account',
      id: `eac_bench${n}`,
      provider: 'oauth_google',
      identification_id: `idn_oauth_idn_bench${n}a`,
      provider_user_id: `1098${String(n).padStart(17, '0')}`,
      approved_scopes: 'email https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/userinfo.profile openid profile',
      email_address: email,
      first_name: 'Member',
      last_name: `Number ${n}`,
      image_url: `https://img.clerk.com/eyJ0eXBlIjoicHJveHkiLCJzcmMiOiJodHRwczovL2xoMy5nb29nbGV1c2VyY29udGVudC5jb20vYS9B${n}`,
      username: null,
      public_metadata: {},
      label: null,
      verification: { status: 'verified', strategy: 'oauth_google', attempts: null, expire_at: 1716883800000 },
      created_at: 1716883200000,
      updated_at: 1716883300000,
    },
  ];
  data.public_metadata = { role: 'member', plan: 'team', onboarding: { completed: true, step: 4 }, tenant: `tenant_${n % 300}` };
  data.private_metadata = { stripe_customer_id: `cus_bench${n}`, crm_id: `crm-${n}`, flags: ['beta', 'new-billing'] };
  data.unsafe_metadata = { theme: 'dark', locale: 'en-US' };
}

function enrichSession(data: Json, n: number): void {
  data.latest_activity = {
    id: `sess_activity_bench${n}`,
    object: 'session_activity',
    device_type: 'Macintosh',
    is_mobile: false,
    browser_name: 'Chrome',
    browser_version: '128.0.0.0',
    ip_address: `203.0.113.${n % 250}`,
    city: 'Berlin',
    country: 'DE',
  };
  data.actor = null;
}

export interface BenchEvent {
  type: string;
  /** The body as sent. */
  body: Buffer;
}

/** Builds events of the realistic mix; `version` numbers every event (newer than any before it). */
export class EventMix {
  readonly #templates = new Map<string, Json>();
  readonly #cumulative: Array<[number, string]> = [];
  readonly #total: number;
  #version: number;
  #seed = 1;

  constructor(firstVersion = Date.now()) {
    this.#version = firstVersion;
    let total = 0;
    for (const type of EVENT_TYPES) {
      this.#templates.set(type, template(type));
      total += WEIGHTS[type] ?? 1;
      this.#cumulative.push([total, type]);
    }
    this.#total = total;
  }

  /** Deterministic, so every run and every receiver gets the same sequence of types. */
  #random(): number {
    this.#seed = (this.#seed * 1103515245 + 12345) % 2 ** 31;
    return this.#seed / 2 ** 31;
  }

  next(): BenchEvent {
    const pick = this.#random() * this.#total;
    const type = this.#cumulative.find(([limit]) => pick < limit)![1];
    const event = structuredClone(this.#templates.get(type)!);
    const data = event.data as Json;
    const n = Math.floor(this.#random() * POOL);
    const version = ++this.#version;
    const prefix = typeof data.id === 'string' ? data.id.split('_')[0] : type.split('.')[0];
    data.id = `${prefix}_bench${n}`;
    if ('updated_at' in data) data.updated_at = version;
    if ('created_at' in data && type.endsWith('.created')) data.created_at = version;
    if (type.startsWith('user.') && type !== 'user.deleted') enrichUser(data, n);
    if (type.startsWith('session.')) {
      enrichSession(data, n);
      data.user_id = `user_bench${n % POOL}`;
    }
    if (type.startsWith('organizationMembership.')) {
      (data.organization as Json).id = `org_bench${n % 500}`;
      (data.public_user_data as Json).user_id = `user_bench${n}`;
    }
    event.timestamp = version;
    event.instance_id = 'ins_bench';
    return { type, body: Buffer.from(JSON.stringify(event)) };
  }
}

/** The benchmark's earlier body: one small user.updated (about 350 bytes). */
export function smallEvent(i: number, version: number): BenchEvent {
  return {
    type: 'user.updated',
    body: Buffer.from(
      JSON.stringify({
        type: 'user.updated',
        object: 'event',
        timestamp: version,
        instance_id: 'ins_bench',
        data: { id: `user_small${i % 5000}`, object: 'user', first_name: 'Bench', last_name: 'Mark', updated_at: version, email_addresses: [{ id: `idn_${i}`, email_address: `u${i}@example.com` }], public_metadata: { role: 'member' } },
      }),
    ),
  };
}
