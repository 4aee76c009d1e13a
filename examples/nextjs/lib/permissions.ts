/** The permission the report action requires (a custom permission defined in the Clerk Dashboard). */
export const REPORTS_PERMISSION = 'org:reports:read';
