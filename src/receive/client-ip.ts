/**
 * Who is calling: the client address that rate limits and the allow-list apply to.
 *
 * The socket's peer is the only address nobody can forge over TCP, so it is the default. Behind a
 * proxy every request shares the proxy's address; `trustProxy` then names the header the proxy
 * writes (`x-forwarded-for` with a hop count, or a one-address header such as `cf-connecting-ip`).
 * A forwarded header is believed only when configured: anyone can send one.
 * Imports nothing internal but core.
 */
import { BlockList, isIP } from 'node:net';
import { ClerkSyncError } from '../core/errors.js';

export type HeaderLookup = (name: string) => string | null | undefined;

export interface TrustProxy {
  /** Lower-case header name. */
  header: string;
  /** Proxies in front of this server that append to the header: the client is the hops-th entry from the right. */
  hops: number;
}

export function parseTrustProxy(setting: string | false): TrustProxy | undefined {
  if (setting === false) return undefined;
  const match = /^([A-Za-z0-9-]+)(?::([1-9][0-9]?))?$/.exec(setting.trim());
  if (!match) throw new ClerkSyncError('invalid_config', `trustProxy must be a header name, optionally with ":hops" (e.g. "x-forwarded-for:2"), got "${setting}"`);
  return { header: match[1]!.toLowerCase(), hops: match[2] ? Number(match[2]) : 1 };
}

/** A canonical address (IPv4-mapped IPv6 becomes IPv4, zone ids and ports dropped), or undefined when it is not one. */
export function normalizeIp(raw: string | null | undefined): string | undefined {
  if (!raw) return undefined;
  let value = raw.trim();
  if (value.startsWith('[')) {
    // "[v6]" or "[v6]:port" (some proxies, e.g. Azure, add the port)
    const end = value.indexOf(']');
    if (end < 0) return undefined;
    value = value.slice(1, end);
  } else if (/^\d{1,3}(\.\d{1,3}){3}:\d{1,5}$/.test(value)) {
    value = value.slice(0, value.lastIndexOf(':'));
  }
  const zone = value.indexOf('%');
  if (zone >= 0) value = value.slice(0, zone);
  const version = isIP(value);
  if (version === 4) return value;
  if (version !== 6) return undefined;
  value = value.toLowerCase();
  const mapped = /^(?:0{0,4}:){0,4}:?(?:0{0,4}:)?ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(value);
  if (mapped && isIP(mapped[1]!) === 4) return mapped[1]!;
  return value;
}

/**
 * The client address of a request: the peer, or the configured forwarded header's entry. When the
 * header is missing, malformed or shorter than the hop count, the peer is used: those requests did
 * not come through every proxy, so their header says nothing trustworthy.
 */
export function resolveClientIp(peer: string | undefined, header: HeaderLookup, trust: TrustProxy | undefined): string | undefined {
  const fromPeer = normalizeIp(peer);
  if (!trust) return fromPeer;
  const value = header(trust.header);
  if (!value) return fromPeer;
  // Repeated headers arrive joined with commas (Node and fetch both do): the right end is the nearest proxy's.
  const entries = value.split(',');
  if (entries.length < trust.hops) return fromPeer;
  return normalizeIp(entries[entries.length - trust.hops]) ?? fromPeer;
}

/** The eight 16-bit groups of a valid IPv6 address (as checked by isIP). */
function ipv6Groups(address: string): number[] {
  let text = address;
  let tail: number[] = [];
  // An embedded IPv4 tail (::ffff:1.2.3.4, 64:ff9b::1.2.3.4) stands for the last two groups.
  const v4 = /:(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    tail = [(a << 8) | b, (c << 8) | d];
    text = text.slice(0, v4.index + 1);
    if (!text.endsWith('::')) text = text.slice(0, -1);
  }
  const compressed = text.indexOf('::');
  const head = compressed < 0 ? text : text.slice(0, compressed);
  const rest = compressed < 0 ? '' : text.slice(compressed + 2);
  const left = head ? head.split(':') : [];
  const right = rest ? rest.split(':') : [];
  const fill = compressed < 0 ? 0 : 8 - tail.length - left.length - right.length;
  return [...left.map((g) => parseInt(g, 16)), ...Array<number>(fill).fill(0), ...right.map((g) => parseInt(g, 16)), ...tail];
}

/**
 * The rate-limit key of an address. An IPv6 user is usually given a whole /64, so keying by the
 * full address would let one client rotate through 2^64 budgets; the /64 is the unit instead.
 */
export function rateLimitKey(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  return `${ipv6Groups(ip)
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}

/** An allow-list of source networks ("10.0.0.0/8", "2001:db8::/32", or single addresses). */
export interface NetworkList {
  readonly size: number;
  contains(ip: string | undefined): boolean;
}

export function parseNetworks(list: readonly string[]): NetworkList {
  const blocks = new BlockList();
  for (const raw of list) {
    const entry = raw.trim();
    const slash = entry.indexOf('/');
    const address = normalizeIp(slash < 0 ? entry : entry.slice(0, slash));
    const version = address ? isIP(address) : 0;
    const max = version === 4 ? 32 : 128;
    const prefixText = slash < 0 ? String(max) : entry.slice(slash + 1);
    const prefix = Number(prefixText);
    if (!address || !/^\d{1,3}$/.test(prefixText) || prefix > max) {
      throw new ClerkSyncError('invalid_config', `allowNetworks: "${entry}" is not an address or a CIDR such as 10.0.0.0/8 or 2001:db8::/32`);
    }
    blocks.addSubnet(address, prefix, version === 4 ? 'ipv4' : 'ipv6');
  }
  return {
    size: list.length,
    contains(ip) {
      if (!ip) return false;
      const version = isIP(ip);
      return version !== 0 && blocks.check(ip, version === 4 ? 'ipv4' : 'ipv6');
    },
  };
}
