/**
 * Stand-in for Clerk's session, so the example runs without Clerk keys: the signed-in user is a
 * cookie set by the "Act as" buttons. With @clerk/nextjs this whole file becomes
 *
 *   import { auth } from '@clerk/nextjs/server';
 *   export async function currentUserId() { return (await auth()).userId; }
 *
 * Everything that decides access reads the user from here, never from a form field or a query
 * parameter the browser controls.
 */
import { cookies } from 'next/headers';

export const SESSION_COOKIE = 'example_user_id';

export async function currentUserId(): Promise<string | null> {
  return (await cookies()).get(SESSION_COOKIE)?.value ?? null;
}
