/** users: user.created/updated/deleted, with the onboarding fields read from public_metadata (DESIGN.md). */
import { z } from 'zod';
import { users } from '../../db/schema/projections.js';
import { defineProjection, read, type Data } from '../projection.js';

function primaryEmail(d: Data): unknown {
  const primaryId = d.primary_email_address_id;
  if (typeof primaryId !== 'string' || !Array.isArray(d.email_addresses)) return null;
  const match = d.email_addresses.map(read.obj).find((e) => e?.id === primaryId);
  return match?.email_address ?? null;
}

const meta = (d: Data): Data => read.obj(d.public_metadata) ?? {};

export const usersProjection = defineProjection({
  table: users,
  events: { 'user.created': 'upsert', 'user.updated': 'upsert', 'user.deleted': 'delete' },
  payload: z.looseObject({ id: z.string().min(1) }),
  columns: {
    externalId: (d) => d.external_id,
    primaryEmail,
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
  },
  personal: ['primaryEmail', 'emailAddresses', 'phoneNumbers', 'firstName', 'lastName', 'username', 'imageUrl', 'publicMetadata', 'privateMetadata', 'unsafeMetadata'],
  owner: 'id',
});
