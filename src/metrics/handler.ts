/** `GET /metrics` as a web-standard handler; the standalone server mounts it. */
import { errorBody } from '../core/errors.js';
import type { ClerkSyncMetrics } from './metrics.js';

export async function handleMetricsRequest(metrics: ClerkSyncMetrics, request: Request): Promise<Response> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return new Response(errorBody('method_not_allowed', 'Use GET'), { status: 405, headers: { allow: 'GET, HEAD', 'content-type': 'application/json; charset=utf-8' } });
  }
  const text = await metrics.render();
  return new Response(request.method === 'HEAD' ? null : text, { status: 200, headers: { 'content-type': metrics.contentType, 'cache-control': 'no-store' } });
}
