/** The organizations clerk-sync has mirrored, with their live member counts. */
import Link from 'next/link';
import { connection } from 'next/server';
import { count, eq, isNull } from 'drizzle-orm';
import { activeOrganizationMemberships, organizations } from 'clerk-sync/schema';
import { db } from '@/lib/db';

export default async function Home() {
  // Read the tables at request time: they change with every webhook.
  await connection();
  const database = await db();
  const orgs = await database
    .select({ id: organizations.id, name: organizations.name, slug: organizations.slug, members: count(activeOrganizationMemberships.id) })
    .from(organizations)
    .leftJoin(activeOrganizationMemberships, eq(activeOrganizationMemberships.organizationId, organizations.id))
    .where(isNull(organizations.deletedAt))
    .groupBy(organizations.id)
    .orderBy(organizations.name);

  return (
    <>
      <h1>Organizations</h1>
      {orgs.length === 0 ? (
        <p className="muted">
          Nothing synced yet. Add <code>/api/webhooks/clerk</code> as an endpoint in the Clerk Dashboard, or send signed
          examples with <code>npx clerk-sync send</code> (see this example&apos;s README).
        </p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Name</th>
              <th>Slug</th>
              <th>Members</th>
            </tr>
          </thead>
          <tbody>
            {orgs.map((org) => (
              <tr key={org.id} data-org-id={org.id}>
                <td>
                  <Link href={`/orgs/${org.id}`}>{org.name ?? org.id}</Link>
                </td>
                <td>{org.slug}</td>
                <td>{org.members}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
