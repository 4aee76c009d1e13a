/** Real HTTP on loopback: start a standalone server for a ClerkSync and post signed events to it. */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { ClerkSync } from '../../src/service/clerk-sync.js';
import { createStandaloneServer } from '../../src/server/standalone.js';

export async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function startServer(sync: ClerkSync): Promise<{ url: string; close(): Promise<void> }> {
  const server = createStandaloneServer(sync);
  const base = await listen(server);
  return {
    url: base,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export async function post(url: string, body: string | Uint8Array, headers: Record<string, string>): Promise<{ status: number; json: any; headers: Headers }> {
  const response = await fetch(url, { method: 'POST', headers, body: body as BodyInit });
  const text = await response.text();
  let json: unknown = undefined;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: response.status, json, headers: response.headers };
}
