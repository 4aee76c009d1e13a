/**
 * Masks personal fields of an event payload for display. An operator debugging a dead letter
 * needs ids, types, statuses, timestamps, counts and structure; everything else a person wrote
 * or is (names, addresses, numbers, links with tokens, locations, birthdays, IPs, message bodies)
 * is shown only when asked for, and that request is logged.
 *
 * An allow-list, not a deny-list: a string is shown only under a key known to hold no personal
 * data, so a field Clerk adds tomorrow is masked until someone decides otherwise. Numbers and
 * booleans are shown (counts, amounts, flags, times), except inside metadata, which is the app's
 * and its users' to fill: there only the keys are shown.
 */

/** String fields that identify or classify, never describe, a person. */
const SAFE_STRING_KEYS = new Set([
  'id', 'object', 'type', 'status', 'role', 'key', 'slug', 'strategy', 'provider', 'currency', 'interval', 'plan_period',
  'enrollment_mode', 'instance_id', 'permissions', 'role_name', 'template_slug', 'source', 'reason', 'channel', 'payer_type',
  'email_address_id', 'sms_message_id', 'verification_strategy', 'device_type', 'browser_name', 'is_mobile', 'platform',
]);
/** Identifiers of a person at another service: personal although they end in `_id`. */
const PERSONAL_IDS = new Set(['provider_user_id', 'web3_wallet', 'external_account_id']);
const METADATA_KEYS = new Set(['public_metadata', 'private_metadata', 'unsafe_metadata', 'metadata']);

export const MASK = '••••••';

function isSafeStringKey(key: string): boolean {
  if (PERSONAL_IDS.has(key)) return false;
  return SAFE_STRING_KEYS.has(key) || key.endsWith('_id') || key.endsWith('_ids') || key.endsWith('_at') || key.endsWith('_slug');
}

export function maskPersonal(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((item) => maskPersonal(item, key));
  if (value && typeof value === 'object') {
    if (METADATA_KEYS.has(key)) return maskLeaves(value);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskPersonal(v, k)]));
  }
  if (typeof value === 'string') return value === '' || isSafeStringKey(key) ? value : MASK;
  return value;
}

// Metadata keeps its shape (its keys help debugging); every value is hidden.
function maskLeaves(value: object): unknown {
  if (Array.isArray(value)) return value.map((item) => (item && typeof item === 'object' ? maskLeaves(item) : MASK));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, v && typeof v === 'object' ? maskLeaves(v) : v === null ? null : MASK]));
}
