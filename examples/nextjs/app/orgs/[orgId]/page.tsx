/**
 * One organization: its live members with their roles, read through the Drizzle schema that
 * clerk-sync exports, and a report action guarded by can().
 */
import { notFound } from 'next/navigation';
import { and, asc, eq, isNull } from 'drizzle-orm';
import { activeOrganizationMemberships, organizations, roles, users } from 'clerk-sync/schema';
import { db } from '@/lib/db';
import { currentUserId } from '@/lib/auth';
import { REPORTS_PERMISSION } from '@/lib/permissions';
import { actAs } from './actions';
import { ReportForm } from './report-form';

export default async function OrganizationPage({ params }: { params: Promise<{ orgId: string }> }) {
  const { orgId } = await params;
  const database = await db();
  const [org] = await database
    .select({ id: organizations.id, name: organizations.name, slug: organizations.slug })
    .from(organizations)
    .where(and(eq(organizations.id, orgId), isNull(organizations.deletedAt)));
  if (!org) notFound();

  // The view keeps memberships whose membership, user and organization carry no tombstone. The
  // user row may not have arrived yet (Clerk often delivers the membership first): left join,
  // and fall back to the id. Custom roles carry their display name; system roles only a key.
  const members = await database
    .select({
      userId: activeOrganizationMemberships.userId,
      role: activeOrganizationMemberships.role,
      roleName: roles.name,
      firstName: users.firstName,
      lastName: users.lastName,
      email: users.primaryEmail,
    })
    .from(activeOrganizationMemberships)
    .leftJoin(users, eq(users.id, activeOrganizationMemberships.userId))
    .leftJoin(roles, and(eq(roles.key, activeOrganizationMemberships.role), isNull(roles.deletedAt)))
    .where(eq(activeOrganizationMemberships.organizationId, orgId))
    .orderBy(asc(users.firstName), asc(activeOrganizationMemberships.userId));

  const me = await currentUserId();
  const meRow = members.find((m) => m.userId === me);

  return (
    <>
      <h1>{org.name ?? org.id}</h1>
      <p className="muted">
        <code>{org.id}</code> · {org.slug}
      </p>

      <h2>Members</h2>
      <table id="members">
        <thead>
          <tr>
            <th>Name</th>
            <th>Email</th>
            <th>Role</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {members.map((m) => (
            <tr key={m.userId} data-user-id={m.userId} data-role={m.role ?? ''}>
              <td>{[m.firstName, m.lastName].filter(Boolean).join(' ') || m.userId}</td>
              <td>{m.email}</td>
              <td>
                {m.roleName ?? m.role} {m.roleName ? <code>{m.role}</code> : null}
              </td>
              <td>
                <form action={actAs}>
                  <input type="hidden" name="userId" value={m.userId} />
                  <input type="hidden" name="orgId" value={org.id} />
                  <button type="submit" disabled={m.userId === me}>
                    {m.userId === me ? 'Signed in' : 'Act as'}
                  </button>
                </form>
              </td>
            </tr>
          ))}
        </tbody>
      </table>

      <section className="panel">
        <h2>Membership report</h2>
        <p className="muted">
          Requires <code>{REPORTS_PERMISSION}</code> in this organization.{' '}
          <span id="signed-in-as">
            {me ? `Signed in as ${[meRow?.firstName, meRow?.lastName].filter(Boolean).join(' ') || me}.` : 'Not signed in.'}
          </span>
        </p>
        {/* Keyed by the user: a report generated for one user is not left on screen for the next. */}
        <ReportForm key={me ?? ''} orgId={org.id} />
      </section>
    </>
  );
}
