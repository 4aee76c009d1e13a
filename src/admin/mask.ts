/**
 * Masks personal fields of an event payload for display. An operator debugging a dead letter
 * needs ids, types, timestamps and structure; names, addresses, numbers, IPs and message bodies
 * are shown only when asked for (and that request is logged).
 */

const PERSONAL_KEYS = new Set([
  'email_address', 'email', 'identifier', 'phone_number', 'to_email_address', 'to_phone_number', 'from_phone_number',
  'first_name', 'last_name', 'username', 'name_on_card', 'web3_wallet',
  'image_url', 'profile_image_url', 'avatar_url',
  'client_ip', 'ip_address', 'user_agent',
  'body', 'body_plain', 'message', 'subject',
  'private_metadata', 'unsafe_metadata',
  'password', 'token', 'otp_code', 'secret',
]);

export const MASK = '••••••';

export function maskPersonal(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskPersonal);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = PERSONAL_KEYS.has(k) && v !== null && v !== '' ? (typeof v === 'object' ? maskObject(v) : MASK) : maskPersonal(v);
    }
    return out;
  }
  return value;
}

// Keep the keys of masked objects (metadata), hide the values: the shape helps debugging.
function maskObject(value: object): unknown {
  if (Array.isArray(value)) return value.map(() => MASK);
  return Object.fromEntries(Object.keys(value).map((k) => [k, MASK]));
}
