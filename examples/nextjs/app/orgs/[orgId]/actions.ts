'use server';
/**
 * Server actions of the organization page. generateReport is the ABAC-guarded action: the user
 * comes from the session (lib/auth.ts), the permission check from the synced tables through
 * clerk-sync's can(), and nothing the browser sends can widen what the user may read.
 */
import { cookies } from 'next/headers';
import { redirect } from 'next/navigation';
import { count, eq } from 'drizzle-orm';
import { can } from 'clerk-sync';
import { activeOrganizationMemberships } from 'clerk-sync/schema';
import { clerkSync } from '@/lib/clerk-sync';
import { db } from '@/lib/db';
import { SESSION_COOKIE, currentUserId } from '@/lib/auth';
import { REPORTS_PERMISSION } from '@/lib/permissions';

export type ReportState =
  | { status: 'idle' }
  | { status: 'unauthenticated' }
  | { status: 'forbidden'; permission: string }
  | { status: 'ok'; generatedAt: string; total: number; byRole: Array<{ role: string; members: number }> };

export async function generateReport(_previous: ReportState, form: FormData): Promise<ReportState> {
  const orgId = String(form.get('orgId') ?? '');
  const userId = await currentUserId();
  if (!userId) return { status: 'unauthenticated' };

  const sync = clerkSync();
  // can() asks Postgres (clerk.can): a live membership whose own permissions or whose role's
  // permissions include this one, for a user who is not deleted or marked inactive.
  if (!(await can(await sync.db(), { schema: sync.config.schema }, userId, orgId, REPORTS_PERMISSION))) {
    return { status: 'forbidden', permission: REPORTS_PERMISSION };
  }

  const database = await db();
  const rows = await database
    .select({ role: activeOrganizationMemberships.role, members: count() })
    .from(activeOrganizationMemberships)
    .where(eq(activeOrganizationMemberships.organizationId, orgId))
    .groupBy(activeOrganizationMemberships.role)
    .orderBy(activeOrganizationMemberships.role);
  return {
    status: 'ok',
    generatedAt: new Date().toISOString(),
    total: rows.reduce((sum, r) => sum + r.members, 0),
    byRole: rows.map((r) => ({ role: r.role ?? 'none', members: r.members })),
  };
}

/** The stand-in sign-in: with Clerk, users sign in through <SignIn /> and this action goes away. */
export async function actAs(form: FormData): Promise<void> {
  const userId = String(form.get('userId') ?? '');
  const orgId = String(form.get('orgId') ?? '');
  (await cookies()).set(SESSION_COOKIE, userId, { httpOnly: true, sameSite: 'lax', path: '/' });
  redirect(`/orgs/${encodeURIComponent(orgId)}`);
}
