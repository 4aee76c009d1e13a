/** The admin's responses: every one carries the same security headers (no caching, no framing, a CSP without scripts). */
import { errorBody, type ErrorCode } from '../core/errors.js';

const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
};

export function htmlResponse(body: string, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(body, { status, headers: { 'content-type': 'text/html; charset=utf-8', ...SECURITY_HEADERS, ...headers } });
}

// PGlite returns an int8 above 2^53 as a BigInt, which JSON.stringify refuses: written as a number
// when it is exact, else as a string.
const jsonSafe = (_key: string, v: unknown) => (typeof v === 'bigint' ? (Number.isSafeInteger(Number(v)) ? Number(v) : v.toString()) : v);

export function jsonResponse(value: unknown, status = 200): Response {
  return new Response(JSON.stringify(value, jsonSafe), { status, headers: { 'content-type': 'application/json; charset=utf-8', ...SECURITY_HEADERS } });
}

export function jsonError(code: ErrorCode, status: number, message?: string, headers: Record<string, string> = {}): Response {
  return new Response(errorBody(code, message), { status, headers: { 'content-type': 'application/json; charset=utf-8', ...SECURITY_HEADERS, ...headers } });
}

export function redirect(location: string, headers: Record<string, string> = {}): Response {
  return new Response(null, { status: 303, headers: { location, ...SECURITY_HEADERS, ...headers } });
}
