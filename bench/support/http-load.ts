/**
 * A cheap load generator: every CPU cycle it spends is taken from the receivers on the same
 * machine. Each request is one buffer built before the run (request line, signed headers, body),
 * written as is on a keep-alive socket; the answer is read only as far as its status and length.
 * No HTTP library, no per-request objects beyond a timestamp: a few microseconds of CPU per
 * request, which the benchmark measures and reports.
 */
import net from 'node:net';

export interface LoadResult {
  seconds: number;
  rate: number;
  p50: number;
  p99: number;
  /** Indexes (into the requests given) answered 2xx. */
  ok: number[];
  failed: number;
  /** This process's CPU over the run, in ms. */
  cpuMs: number;
}

const HEADER_END = Buffer.from('\r\n\r\n');

/** One complete HTTP/1.1 request. */
export function encodeRequest(port: number, path: string, headers: Record<string, string>, body: Buffer): Buffer {
  const lines = [`POST ${path} HTTP/1.1`, `host: 127.0.0.1:${port}`, 'connection: keep-alive', 'content-type: application/json', `content-length: ${body.length}`];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`), body]);
}

/** Sends every request once over `connections` sockets, each waiting for its answer before the next. */
export async function sendAll(port: number, requests: readonly Buffer[], connections: number): Promise<LoadResult> {
  const latencies = new Float64Array(requests.length);
  const status = new Uint16Array(requests.length);
  let next = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(connections, requests.length) }, () => runConnection()));
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);

  const ok: number[] = [];
  for (let i = 0; i < requests.length; i++) if (status[i]! >= 200 && status[i]! < 300) ok.push(i);
  const sorted = Array.from(latencies).sort((a, b) => a - b);
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
  return { seconds, rate: requests.length / seconds, p50: pct(0.5), p99: pct(0.99), ok, failed: requests.length - ok.length, cpuMs: (used.user + used.system) / 1000 };

  function runConnection(): Promise<void> {
    return new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.setNoDelay(true);
      let current = -1;
      let sentAt = 0;
      let pending: Buffer = Buffer.alloc(0);
      const sendNext = () => {
        if (next >= requests.length) {
          socket.end();
          resolve();
          return;
        }
        current = next++;
        sentAt = performance.now();
        socket.write(requests[current]!);
      };
      socket.on('connect', sendNext);
      socket.on('data', (chunk: Buffer) => {
        pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
        const end = pending.indexOf(HEADER_END);
        if (end < 0) return;
        const head = pending.toString('latin1', 0, end);
        const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
        if (!length) throw new Error(`An answer without content-length: ${head}`);
        const total = end + 4 + Number(length[1]);
        if (pending.length < total) return;
        pending = pending.subarray(total);
        status[current] = Number(head.slice(9, 12));
        latencies[current] = performance.now() - sentAt;
        sendNext();
      });
      socket.on('error', () => {
        if (current >= 0 && status[current] === 0) latencies[current] = performance.now() - sentAt;
        resolve();
      });
    });
  }
}
