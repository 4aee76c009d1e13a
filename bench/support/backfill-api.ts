/**
 * The Backend API side of bench/backfill.ts, in a process of its own so its CPU and memory are
 * not counted as the backfill's: the local fake seeded with an instance of the asked size and
 * Clerk-sized users, limited to Clerk's production rate (1,000 requests per 10 s). Talks to the
 * parent over IPC: sends { url, secretKey, minimum, userBytes } when ready, answers 'stats' with
 * { requests, limited }.
 */
import { randomBytes } from 'node:crypto';
import { minimumRequests } from '../../test/backfill/support.js';
import { startFakeClerkApi } from '../../test/support/fake-clerk-api.js';

const [USERS, ORGANIZATIONS, MEMBERSHIPS] = process.argv.slice(2).map(Number) as [number, number, number];

const fake = await startFakeClerkApi();
fake.seed({ users: USERS, organizations: ORGANIZATIONS, permissions: 10, roles: 4, invitations: 200, revokedInvitations: 20, waitlistEntries: 500 });
// Clerk-sized users: a phone, an OAuth account and metadata beside the email (about 2 KB as JSON).
for (const [i, user] of fake.users.entries()) {
  user.phone_numbers = [{ id: `idn_phone_${i}`, object: 'phone_number', phone_number: `+1555${String(i).padStart(7, '0')}`, reserved_for_second_factor: false, default_second_factor: false, verification: { status: 'verified', strategy: 'phone_code', attempts: 1, expire_at: null }, linked_to: [], backup_codes: null }];
  user.external_accounts = [{ id: `idn_oauth_${i}`, object: 'google_account', provider: 'oauth_google', identification_id: `idn_oauth_${i}`, provider_user_id: `1${String(i).padStart(20, '0')}`, approved_scopes: 'email https://www.googleapis.com/auth/userinfo.email openid profile', email_address: `person${i}@gmail.com`, first_name: user.first_name, last_name: user.last_name, image_url: `https://img.clerk.com/oauth/${i}`, username: null, public_metadata: {}, label: null, verification: { status: 'verified', strategy: 'oauth_google', attempts: null, expire_at: null } }];
  user.public_metadata = { role: i % 7 === 0 ? 'admin' : 'member', plan: 'team', onboarding: { completed: true, step: 4, source: 'invite' } };
  user.private_metadata = { stripeCustomerId: `cus_${randomBytes(7).toString('hex')}`, crmId: `crm-${i}` };
}
for (let m = 0; m < MEMBERSHIPS; m++) {
  const org = fake.organizations[m % ORGANIZATIONS]!;
  const user = fake.users[(m * 7919) % USERS]!;
  fake.addMembership(org.id as string, user.id, m < ORGANIZATIONS ? 'org:admin' : 'org:member');
}
const userBytes = Buffer.byteLength(JSON.stringify(fake.users[0]));
fake.slidingLimit({ requests: 1000, windowMs: 10_000 });

process.send!({ url: fake.url, secretKey: fake.secretKey, minimum: minimumRequests(fake), userBytes });
process.on('message', (message) => {
  if (message === 'stats') process.send!({ requests: fake.requests.length, limited: fake.requests.filter((r) => r.status === 429).length });
});
process.on('disconnect', () => void fake.close().then(() => process.exit(0)));
