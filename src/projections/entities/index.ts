/** Every projection clerk-sync ships, and the registry built from them. */
import { ProjectionRegistry } from '../registry.js';
import { emailsProjection } from './emails.js';
import { invitationsProjection } from './invitations.js';
import { organizationDomainsProjection } from './organization-domains.js';
import { organizationInvitationsProjection } from './organization-invitations.js';
import { organizationMembershipsProjection } from './organization-memberships.js';
import { organizationsProjection } from './organizations.js';
import { paymentAttemptsProjection } from './payment-attempts.js';
import { permissionsProjection } from './permissions.js';
import { rolesProjection } from './roles.js';
import { sessionsProjection } from './sessions.js';
import { smsMessagesProjection } from './sms-messages.js';
import { subscriptionItemsProjection } from './subscription-items.js';
import { subscriptionsProjection } from './subscriptions.js';
import { usersProjection } from './users.js';
import { waitlistEntriesProjection } from './waitlist-entries.js';

export const PROJECTIONS = [
  usersProjection,
  organizationsProjection,
  organizationMembershipsProjection,
  sessionsProjection,
  rolesProjection,
  permissionsProjection,
  organizationInvitationsProjection,
  invitationsProjection,
  organizationDomainsProjection,
  waitlistEntriesProjection,
  emailsProjection,
  smsMessagesProjection,
  subscriptionsProjection,
  subscriptionItemsProjection,
  paymentAttemptsProjection,
] as const;

export const defaultRegistry = new ProjectionRegistry(PROJECTIONS);
