/** users: user.created/updated/deleted, with the onboarding fields read from public_metadata (DESIGN.md). */
import { z } from 'zod';
import { users } from '../../db/schema/projections.js';
import { defineProjection, read, type Data } from '../projection.js';

/** The entry of `list` whose id is `d[idKey]` (the primary address or number). */
function primaryOf(d: Data, idKey: string, list: unknown): Data | null {
  const primaryId = d[idKey];
  if (typeof primaryId !== 'string' || !Array.isArray(list)) return null;
  return list.map(read.obj).find((e) => e?.id === primaryId) ?? null;
}

const primaryEmail = (d: Data): Data | null => primaryOf(d, 'primary_email_address_id', d.email_addresses);

function providers(d: Data): string[] {
  if (!Array.isArray(d.external_accounts)) return [];
  const names = d.external_accounts.map((a) => read.str(read.obj(a)?.provider)).filter((p): p is string => p !== null);
  return [...new Set(names)];
}

function fullName(d: Data): string | null {
  const parts = [read.str(d.first_name), read.str(d.last_name)].filter((p): p is string => p !== null);
  return parts.length > 0 ? parts.join(' ') : null;
}

const meta = (d: Data): Data => read.obj(d.public_metadata) ?? {};

export const usersProjection = defineProjection({
  table: users,
  events: { 'user.created': 'upsert', 'user.updated': 'upsert', 'user.deleted': 'delete' },
  payload: z.looseObject({ id: z.string().min(1) }),
  columns: {
    externalId: (d) => d.external_id,
    primaryEmail: (d) => primaryEmail(d)?.email_address,
    emailAddresses: (d) => d.email_addresses,
    phoneNumbers: (d) => d.phone_numbers,
    firstName: (d) => d.first_name,
    lastName: (d) => d.last_name,
    username: (d) => d.username,
    imageUrl: (d) => d.image_url ?? d.profile_image_url,
    publicMetadata: (d) => d.public_metadata,
    privateMetadata: (d) => d.private_metadata,
    unsafeMetadata: (d) => d.unsafe_metadata,
    banned: (d) => d.banned,
    locked: (d) => d.locked,
    lastSignInAt: (d) => d.last_sign_in_at,
    lastActiveAt: (d) => d.last_active_at,
    role: (d) => read.str(meta(d).role),
    permissions: (d) => meta(d).permissions,
    organizationId: (d) => read.str(meta(d).organizationId),
    // The seeds' rule: active unless explicitly false; onboarded only when explicitly true.
    isActive: (d) => meta(d).isActive !== false && meta(d).isActive !== 'false',
    onboardingCompleted: (d) => meta(d).onboardingComplete === true || meta(d).onboardingComplete === 'true',
    primaryPhoneNumber: (d) => primaryOf(d, 'primary_phone_number_id', d.phone_numbers)?.phone_number,
    emailVerified: (d) => {
      const primary = primaryEmail(d);
      return primary ? read.at(primary, 'verification', 'status') === 'verified' : null;
    },
    twoFactorEnabled: (d) => d.two_factor_enabled,
    passwordEnabled: (d) => d.password_enabled,
    externalAccountProviders: providers,
    legalAcceptedAt: (d) => d.legal_accepted_at,
    locale: (d) => d.locale,
    fullName,
  },
  personal: [
    'primaryEmail', 'emailAddresses', 'phoneNumbers', 'firstName', 'lastName', 'username', 'imageUrl', 'publicMetadata', 'privateMetadata', 'unsafeMetadata',
    'primaryPhoneNumber', 'fullName', 'locale',
  ],
  owner: 'id',
});
