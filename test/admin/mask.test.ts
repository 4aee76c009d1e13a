/** The admin's masked view: by an allow-list, so personal fields Clerk sends (or adds later) stay hidden. */
import { describe, expect, it } from 'vitest';
import { MASK, maskPersonal } from '../../src/admin/mask.js';

describe('maskPersonal', () => {
  const masked = maskPersonal({
    type: 'email.created',
    object: 'event',
    timestamp: 1716883200000,
    instance_id: 'ins_1',
    event_attributes: { http_request: { client_ip: '203.0.113.9', user_agent: 'Mozilla/5.0' } },
    data: {
      id: 'ema_1',
      object: 'email',
      status: 'queued',
      slug: 'magic_link_sign_in',
      user_id: 'user_1',
      email_address_id: 'idn_1',
      to_email_address: 'jane@example.com',
      data: { magic_link: 'https://accounts.example.com/v1/verify?token=SECRET', action_url: 'https://x/?t=SECRET2', requested_from: 'Chrome, Paris, FR' },
      birthday: '1990-04-01',
      gender: 'female',
      latest_activity: { city: 'Paris', country: 'FR', ip_address: '203.0.113.9', browser_name: 'Chrome', is_mobile: false },
      external_accounts: [{ id: 'idn_g', provider: 'oauth_google', provider_user_id: '1098765432', email_address: 'jane@gmail.com' }],
      public_metadata: { role: 'admin', nested: { plan: 'team', seats: 5 } },
      members_count: 3,
      created_at: 1716883200000,
      something_new: 'a field Clerk adds tomorrow',
    },
  }) as any;

  it('shows ids, types, statuses, times, counts and flags', () => {
    expect(masked).toMatchObject({ type: 'email.created', object: 'event', timestamp: 1716883200000, instance_id: 'ins_1' });
    expect(masked.data).toMatchObject({ id: 'ema_1', object: 'email', status: 'queued', slug: 'magic_link_sign_in', user_id: 'user_1', email_address_id: 'idn_1', members_count: 3, created_at: 1716883200000 });
    expect(masked.data.external_accounts[0]).toMatchObject({ id: 'idn_g', provider: 'oauth_google' });
    expect(masked.data.latest_activity).toMatchObject({ browser_name: 'Chrome', is_mobile: false });
  });

  it('hides links with tokens, where a request came from, birthday, gender, places, IPs and provider ids', () => {
    const text = JSON.stringify(masked);
    for (const secret of ['SECRET', 'Paris', 'jane@', '1990-04-01', 'female', '203.0.113.9', '1098765432', 'Mozilla', 'Clerk adds tomorrow']) expect(text).not.toContain(secret);
    expect(masked.data.data).toEqual({ magic_link: MASK, action_url: MASK, requested_from: MASK });
    expect(masked.data.latest_activity.city).toBe(MASK);
  });

  it('keeps metadata keys and hides every value in it', () => {
    expect(masked.data.public_metadata).toEqual({ role: MASK, nested: { plan: MASK, seats: MASK } });
  });
});
