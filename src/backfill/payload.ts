/**
 * API objects → webhook `data`. `@clerk/backend` turns responses into camelCase classes, but
 * User, Organization, OrganizationMembership, OrganizationInvitation and Invitation keep the
 * original snake_case JSON in `.raw`, which is exactly what webhooks carry. Role and Permission
 * do not, so their fields are turned back into snake_case (Permission loses `type`, which the
 * SDK drops and no projection reads).
 */
export type ApiObject = { raw?: Record<string, unknown> | null } & Record<string, unknown>;

function snake(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function toSnake(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toSnake);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === '_raw') continue;
      out[snake(k)] = toSnake(v);
    }
    return out;
  }
  return value;
}

export function toWebhookData(value: ApiObject, object: string): Record<string, unknown> {
  const raw = value.raw;
  if (raw && typeof raw === 'object') return { object, ...raw };
  const data = toSnake(value) as Record<string, unknown>;
  if (object === 'role' && Array.isArray(data.permissions)) {
    data.permissions = data.permissions.map((p) => ({ object: 'permission', ...(p as Record<string, unknown>) }));
  }
  return { object, ...data };
}
