/**
 * The projection tables apps query (DESIGN.md "Tables", contract), plus the read-side views.
 * Every table shares the common columns below; the `_`-prefixed ones are clerk-sync's ordering
 * guard (which event's data the row holds) and are not meant for apps.
 * The upserts that fill these tables live in src/projections/entities/, one module per table,
 * and take their column names and types from these definitions.
 */
import { sql } from 'drizzle-orm';
import { bigint, boolean, index, integer, jsonb, text, timestamp } from 'drizzle-orm/pg-core';
import { clerk } from './clerk-schema.js';

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** A fresh set of builders per table: Drizzle binds each builder to the table it is used in. */
function common() {
  return {
    /** Clerk's id. */
    id: text('id').primaryKey(),
    /** Clerk's created_at / updated_at (ms in the payload). */
    createdAt: at('created_at'),
    updatedAt: at('updated_at'),
    /** Tombstone: set by any `*.deleted` event and never cleared (Clerk never reuses ids). */
    deletedAt: at('deleted_at'),
    /** The `data` of the event the row's columns come from. */
    raw: jsonb('raw').$type<Record<string, unknown>>(),
    /** When clerk-sync last wrote the row. */
    syncedAt: at('synced_at').notNull().defaultNow(),
    /** Ordering guard: (version, envelope timestamp, svix id) of the event the data comes from; null until data arrives. */
    version: bigint('_version', { mode: 'number' }),
    eventTs: bigint('_event_ts', { mode: 'number' }),
    eventId: text('_event_id'),
  };
}

export const users = clerk.table(
  'users',
  {
    ...common(),
    externalId: text('external_id'),
    /** The address whose id is `primary_email_address_id`. */
    primaryEmail: text('primary_email'),
    emailAddresses: jsonb('email_addresses').$type<unknown[]>(),
    phoneNumbers: jsonb('phone_numbers').$type<unknown[]>(),
    firstName: text('first_name'),
    lastName: text('last_name'),
    username: text('username'),
    imageUrl: text('image_url'),
    publicMetadata: jsonb('public_metadata').$type<Record<string, unknown>>(),
    privateMetadata: jsonb('private_metadata').$type<Record<string, unknown>>(),
    unsafeMetadata: jsonb('unsafe_metadata').$type<Record<string, unknown>>(),
    banned: boolean('banned'),
    locked: boolean('locked'),
    lastSignInAt: at('last_sign_in_at'),
    lastActiveAt: at('last_active_at'),
    /** Onboarding fields, from public_metadata (role, permissions, organizationId, isActive, onboardingComplete). */
    role: text('role'),
    permissions: text('permissions').array().notNull().default(sql`'{}'::text[]`),
    organizationId: text('organization_id'),
    isActive: boolean('is_active').notNull().default(true),
    onboardingCompleted: boolean('onboarding_completed').notNull().default(false),
    /** The number whose id is `primary_phone_number_id`. */
    primaryPhoneNumber: text('primary_phone_number'),
    /** The primary email address's verification status is `verified`; null without a primary address. */
    emailVerified: boolean('email_verified'),
    twoFactorEnabled: boolean('two_factor_enabled'),
    passwordEnabled: boolean('password_enabled'),
    /** `external_accounts[].provider`, e.g. `oauth_google`, in payload order without repeats. */
    externalAccountProviders: text('external_account_providers').array().notNull().default(sql`'{}'::text[]`),
    legalAcceptedAt: at('legal_accepted_at'),
    locale: text('locale'),
    /** First and last name joined by a space (what a hand-written `name` column usually holds). */
    fullName: text('full_name'),
    /** Set by a delete in scrub mode: the personal columns stay null whatever arrives later. */
    scrubbed: boolean('_scrubbed').notNull().default(false),
  },
  (t) => [index('users_primary_email_idx').on(t.primaryEmail), index('users_organization_id_idx').on(t.organizationId)],
);

export const organizations = clerk.table(
  'organizations',
  {
    ...common(),
    name: text('name'),
    slug: text('slug'),
    imageUrl: text('image_url'),
    createdBy: text('created_by'),
    publicMetadata: jsonb('public_metadata').$type<Record<string, unknown>>(),
    privateMetadata: jsonb('private_metadata').$type<Record<string, unknown>>(),
    maxAllowedMemberships: integer('max_allowed_memberships'),
    /** Present when Clerk includes it (Backend API listings with include_members_count, some events). */
    membersCount: integer('members_count'),
    pendingInvitationsCount: integer('pending_invitations_count'),
  },
  (t) => [index('organizations_slug_idx').on(t.slug)],
);

export const organizationMemberships = clerk.table(
  'organization_memberships',
  {
    ...common(),
    organizationId: text('organization_id'),
    userId: text('user_id'),
    role: text('role'),
    permissions: text('permissions').array().notNull().default(sql`'{}'::text[]`),
    publicMetadata: jsonb('public_metadata').$type<Record<string, unknown>>(),
    /** The role's display name (`role_name`). */
    roleName: text('role_name'),
    /** The member's email address or phone number (`public_user_data.identifier`). */
    identifier: text('identifier'),
    userFirstName: text('user_first_name'),
    userLastName: text('user_last_name'),
  },
  (t) => [
    index('organization_memberships_organization_id_idx').on(t.organizationId),
    index('organization_memberships_user_id_idx').on(t.userId),
  ],
);

export const sessions = clerk.table(
  'sessions',
  {
    ...common(),
    userId: text('user_id'),
    clientId: text('client_id'),
    status: text('status'),
    lastActiveOrganizationId: text('last_active_organization_id'),
    lastActiveAt: at('last_active_at'),
    expireAt: at('expire_at'),
    abandonAt: at('abandon_at'),
    /** Set when the winning event is session.ended, session.removed or session.revoked: that event's version. */
    endedAt: at('ended_at'),
    /** Impersonation: the actor object (`sub` is the impersonating user) when the session is an actor token's. */
    actor: jsonb('actor').$type<Record<string, unknown>>(),
    /** From `latest_activity`: where and on what the session was last used. */
    ipAddress: text('ip_address'),
    city: text('city'),
    country: text('country'),
    browserName: text('browser_name'),
    deviceType: text('device_type'),
    isMobile: boolean('is_mobile'),
  },
  (t) => [index('sessions_user_id_idx').on(t.userId)],
);

export const roles = clerk.table(
  'roles',
  {
    ...common(),
    key: text('key'),
    name: text('name'),
    description: text('description'),
    /** Keys of the role's permissions. */
    permissions: text('permissions').array().notNull().default(sql`'{}'::text[]`),
  },
  (t) => [index('roles_key_idx').on(t.key)],
);

export const permissions = clerk.table(
  'permissions',
  {
    ...common(),
    key: text('key'),
    name: text('name'),
    description: text('description'),
    type: text('type'),
  },
  (t) => [index('permissions_key_idx').on(t.key)],
);

export const organizationInvitations = clerk.table(
  'organization_invitations',
  {
    ...common(),
    emailAddress: text('email_address'),
    organizationId: text('organization_id'),
    role: text('role'),
    status: text('status'),
    /** The user who accepted (organizationInvitation.accepted). */
    userId: text('user_id'),
    expiresAt: at('expires_at'),
    roleName: text('role_name'),
    /** The user who sent the invitation. */
    inviterId: text('inviter_id'),
  },
  (t) => [index('organization_invitations_organization_id_idx').on(t.organizationId)],
);

export const invitations = clerk.table('invitations', {
  ...common(),
  emailAddress: text('email_address'),
  /** Instance invitations carry no role of their own; filled when the payload has one. */
  role: text('role'),
  status: text('status'),
  expiresAt: at('expires_at'),
});

export const organizationDomains = clerk.table(
  'organization_domains',
  {
    ...common(),
    organizationId: text('organization_id'),
    name: text('name'),
    enrollmentMode: text('enrollment_mode'),
    /** `affiliation_verification.status`, else the deprecated `verification.status`. */
    verificationStatus: text('verification_status'),
  },
  (t) => [index('organization_domains_organization_id_idx').on(t.organizationId)],
);

export const waitlistEntries = clerk.table('waitlist_entries', {
  ...common(),
  emailAddress: text('email_address'),
  status: text('status'),
});

export const emails = clerk.table(
  'emails',
  {
    ...common(),
    toEmailAddress: text('to_email_address'),
    fromEmailName: text('from_email_name'),
    subject: text('subject'),
    slug: text('slug'),
    status: text('status'),
    userId: text('user_id'),
    emailAddressId: text('email_address_id'),
    deliveredByClerk: boolean('delivered_by_clerk'),
  },
  (t) => [index('emails_user_id_idx').on(t.userId)],
);

export const smsMessages = clerk.table(
  'sms_messages',
  {
    ...common(),
    toPhoneNumber: text('to_phone_number'),
    fromPhoneNumber: text('from_phone_number'),
    slug: text('slug'),
    status: text('status'),
    userId: text('user_id'),
    phoneNumberId: text('phone_number_id'),
    deliveredByClerk: boolean('delivered_by_clerk'),
  },
  (t) => [index('sms_messages_user_id_idx').on(t.userId)],
);

/** Payer columns shared by the billing tables: who pays (a user or an organization). */
function payer() {
  return {
    payerId: text('payer_id'),
    userId: text('user_id'),
    organizationId: text('organization_id'),
  };
}

export const subscriptions = clerk.table(
  'subscriptions',
  {
    ...common(),
    ...payer(),
    status: text('status'),
    /** The plan of the subscription's active item (else of its first item). */
    planId: text('plan_id'),
    planSlug: text('plan_slug'),
    latestPaymentId: text('latest_payment_id'),
    paymentSourceId: text('payment_source_id'),
    activeAt: at('active_at'),
    pastDueAt: at('past_due_at'),
    canceledAt: at('canceled_at'),
    endedAt: at('ended_at'),
  },
  (t) => [index('subscriptions_user_id_idx').on(t.userId), index('subscriptions_organization_id_idx').on(t.organizationId)],
);

export const subscriptionItems = clerk.table(
  'subscription_items',
  {
    ...common(),
    ...payer(),
    subscriptionId: text('subscription_id'),
    status: text('status'),
    planId: text('plan_id'),
    planSlug: text('plan_slug'),
    planName: text('plan_name'),
    /** The plan's price per interval, in the currency's smallest unit. */
    amount: bigint('amount', { mode: 'number' }),
    currency: text('currency'),
    interval: text('interval'),
    isFreeTrial: boolean('is_free_trial'),
    periodStart: at('period_start'),
    periodEnd: at('period_end'),
    /** `seats.quantity`: seats the item entitles to; null when unlimited or not seat-based. */
    seats: integer('seats'),
  },
  (t) => [
    index('subscription_items_subscription_id_idx').on(t.subscriptionId),
    index('subscription_items_user_id_idx').on(t.userId),
    index('subscription_items_organization_id_idx').on(t.organizationId),
  ],
);

export const paymentAttempts = clerk.table(
  'payment_attempts',
  {
    ...common(),
    ...payer(),
    paymentId: text('payment_id'),
    statementId: text('statement_id'),
    status: text('status'),
    chargeType: text('charge_type'),
    /** totals.grand_total, in the currency's smallest unit. */
    amount: bigint('amount', { mode: 'number' }),
    currency: text('currency'),
    billingDate: at('billing_date'),
    paidAt: at('paid_at'),
    failedAt: at('failed_at'),
    failedReason: text('failed_reason'),
    /** From `payment_source`: `card` or `link`, and for cards the brand and last four digits. */
    paymentMethod: text('payment_method'),
    cardType: text('card_type'),
    paymentMethodLast4: text('payment_method_last4'),
  },
  (t) => [index('payment_attempts_user_id_idx').on(t.userId), index('payment_attempts_organization_id_idx').on(t.organizationId)],
);
