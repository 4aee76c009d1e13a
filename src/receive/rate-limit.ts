/**
 * Limits of the webhook path per client address: the allow-list and two rate-limit budgets.
 *
 * - `failed`: deliveries answered 400 or 413. Its count is read (not consumed) before the HMAC, so
 *   an address that has used it up gets 429 without costing any signature work; a failure consumes.
 * - `verified`: deliveries whose signature checked out. Off by default: Svix retries a 429 on its own
 *   schedule (5 s, then minutes to hours), so throttling real events delays the whole sync.
 *
 * Counts live in memory, or in Redis when `redisUrl` is set so every instance enforces one limit.
 * When Redis cannot answer, the in-memory counts take over (with a warning) until it is back: a
 * limiter must never turn into a 5xx or a hung request. Construction does no I/O (Next.js imports
 * route modules at build time); the Redis connection opens on first use.
 */
import type { Logger } from 'pino';
import type { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Redis } from 'ioredis';
import { missingPackage } from '../core/optional.js';
import { parseNetworks, parseTrustProxy, rateLimitKey, resolveClientIp, type HeaderLookup, type NetworkList } from './client-ip.js';

export interface RateLimitSettings {
  failed: number;
  verified: number;
  windowSeconds: number;
  redisUrl?: string;
  keyPrefix: string;
}

export interface LimitsSettings {
  rateLimit: RateLimitSettings;
  trustProxy: string | false;
  allowNetworks?: readonly string[];
}

/** The caller as the limits see it. `key` is absent when the address is unknown: no rate limit applies then. */
export interface Client {
  ip?: string;
  key?: string;
}

export interface DeliveryLimits {
  identify(peer: string | undefined, header: HeaderLookup): Client;
  /** False when an allow-list is set and the client is not in it (or its address is unknown). */
  allows(client: Client): boolean;
  /** Seconds to wait before this client may be heard again (0: go on). Counts nothing. */
  waitBeforeVerify(client: Client): Promise<number>;
  /** Counts a delivery that failed verification or was refused as malformed or too large. */
  failed(client: Client): Promise<void>;
  /** Counts a verified delivery; seconds to wait when that went over the budget (0: go on). */
  verified(client: Client): Promise<number>;
  close(): Promise<void>;
}

const REDIS_FIRST_CONTACT_MS = 1500;

type LimiterPackage = typeof import('rate-limiter-flexible');
// Imported by the first delivery that counts, not with the route module: a cold start that
// imports the route pays for the limiters only when a request needs them. Once loaded, it is
// used as is: no await and no allocation per delivery for it.
let limiterPackage: LimiterPackage | undefined;
let loadingLimiters: Promise<LimiterPackage> | undefined;
const loadLimiterPackage = (): Promise<LimiterPackage> => (loadingLimiters ??= import('rate-limiter-flexible').then((p) => (limiterPackage = p)));
const isLimitResult = (value: unknown): value is RateLimiterRes => limiterPackage !== undefined && value instanceof limiterPackage.RateLimiterRes;

function secondsOf(res: RateLimiterRes): number {
  return Math.max(1, Math.ceil(res.msBeforeNext / 1000));
}

/** The Redis connection, opened on first use and watched so a dead Redis is skipped without waiting. */
class RedisLink {
  readonly #url: string;
  readonly #logger: Logger;
  #client: Redis | undefined;
  #firstContact: Promise<void> | undefined;
  #degraded = false;
  #closed = false;

  constructor(url: string, logger: Logger) {
    this.#url = url;
    this.#logger = logger;
  }

  /** The client when it is connected, else undefined (callers then count in memory). */
  async ready(): Promise<Redis | undefined> {
    if (this.#closed) return undefined;
    this.#firstContact ??= this.#open();
    await this.#firstContact;
    if (this.#client?.status === 'ready') return this.#client;
    this.degrade();
    return undefined;
  }

  degrade(error?: unknown): void {
    if (this.#degraded || this.#closed) return;
    this.#degraded = true;
    this.#logger.warn(
      { err: error ? { message: (error as Error)?.message, code: (error as { code?: string })?.code } : undefined },
      'Redis is unavailable: rate limits fall back to in-memory counts (per instance) until it is back',
    );
  }

  async #open(): Promise<void> {
    let Client: typeof Redis;
    try {
      // Imported on first use: only deployments that set REDIS_URL need ioredis installed.
      Client = (await import('ioredis')).Redis;
    } catch (error) {
      this.#logger.error({ err: { message: missingPackage('ioredis', 'REDIS_URL (rateLimit.redisUrl)', error).message } }, 'Redis rate limits are off');
      this.degrade();
      return;
    }
    try {
      this.#client = new Client(this.#url, {
        // Fail fast instead of queueing: a request must not wait for Redis to come back.
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        commandTimeout: 500,
        connectTimeout: 1000,
        retryStrategy: (times) => Math.min(times * 250, 5000),
      });
    } catch (error) {
      this.degrade(error);
      return;
    }
    const client = this.#client;
    client.on('error', (error: unknown) => this.degrade(error));
    client.on('ready', () => {
      if (!this.#degraded) return;
      this.#degraded = false;
      this.#logger.info('Redis is reachable again: rate limits are shared across instances again');
    });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, REDIS_FIRST_CONTACT_MS);
      timer.unref();
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      client.once('ready', done);
      client.once('error', done);
      client.once('end', done);
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    const client = this.#client;
    if (!client) return;
    if (client.status === 'ready') await client.quit().catch(() => undefined);
    client.disconnect();
  }
}

/** One budget: `points` per window per key, in Redis when it answers, else in memory. */
class Budget {
  readonly points: number;
  readonly #link: RedisLink | undefined;
  readonly #options: { points: number; duration: number; keyPrefix: string };
  #memory: RateLimiterMemory | undefined;
  #redis: RateLimiterRedis | undefined;

  constructor(name: string, points: number, settings: RateLimitSettings, link: RedisLink | undefined) {
    this.points = points;
    this.#options = { points, duration: settings.windowSeconds, keyPrefix: `${settings.keyPrefix}:${name}` };
    this.#link = link;
  }

  /** The limiter to count with now: Redis when it answers, else memory (built first: the fallback whenever Redis fails). */
  async #limiter(): Promise<RateLimiterMemory | RateLimiterRedis> {
    const limiters = limiterPackage ?? (await loadLimiterPackage());
    const memory = (this.#memory ??= new limiters.RateLimiterMemory(this.#options));
    const client = await this.#link?.ready();
    if (!client) return memory;
    this.#redis ??= new limiters.RateLimiterRedis({ ...this.#options, storeClient: client, rejectIfRedisNotReady: true });
    return this.#redis;
  }

  /** The count of a key, or null when it has none; Redis errors fall back to memory. */
  async get(key: string): Promise<RateLimiterRes | null> {
    const limiter = await this.#limiter();
    try {
      return await limiter.get(key);
    } catch (error) {
      if (limiter === this.#memory) throw error;
      this.#link?.degrade(error);
      return this.#memory!.get(key);
    }
  }

  /** Counts one; resolves to the new count, including when it went over the budget. */
  async consume(key: string): Promise<RateLimiterRes> {
    const limiter = await this.#limiter();
    try {
      return await limiter.consume(key);
    } catch (error) {
      if (isLimitResult(error)) return error;
      if (limiter === this.#memory) throw error;
      this.#link?.degrade(error);
      return this.#memory!.consume(key).catch((over: unknown) => {
        if (isLimitResult(over)) return over;
        throw over;
      });
    }
  }
}

export function createDeliveryLimits(settings: LimitsSettings, logger: Logger): DeliveryLimits {
  const trust = parseTrustProxy(settings.trustProxy);
  const allowList: NetworkList | undefined = settings.allowNetworks?.length ? parseNetworks(settings.allowNetworks) : undefined;
  const { rateLimit } = settings;
  const limited = rateLimit.failed > 0 || rateLimit.verified > 0;
  const link = limited && rateLimit.redisUrl ? new RedisLink(rateLimit.redisUrl, logger) : undefined;
  const failedBudget = rateLimit.failed > 0 ? new Budget('failed', rateLimit.failed, rateLimit, link) : undefined;
  const verifiedBudget = rateLimit.verified > 0 ? new Budget('verified', rateLimit.verified, rateLimit, link) : undefined;
  let warnedUnknown = false;

  // A limiter fault must never cost a delivery: when counting fails, the request goes on.
  const safely = async <T>(fn: () => Promise<T>, fallback: T): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      logger.error({ err: { message: (error as Error)?.message } }, 'rate limiter failed; the request was let through');
      return fallback;
    }
  };

  return {
    identify(peer, header) {
      const ip = resolveClientIp(peer, header, trust);
      if (!ip && (limited || allowList) && !warnedUnknown) {
        warnedUnknown = true;
        logger.warn(
          'A webhook delivery came without a known client address: rate limits do not apply to it and an allow-list refuses it. ' +
            'Pass { clientIp } to handleWebhook or set trustProxy to the header your platform sets.',
        );
      }
      return ip ? { ip, key: rateLimitKey(ip) } : {};
    },
    allows(client) {
      return !allowList || allowList.contains(client.ip);
    },
    waitBeforeVerify(client) {
      const key = client.key;
      if (!key || !limited) return Promise.resolve(0);
      return safely(async () => {
        for (const budget of [failedBudget, verifiedBudget]) {
          if (!budget) continue;
          const res = await budget.get(key);
          if (res && res.consumedPoints >= budget.points) return secondsOf(res);
        }
        return 0;
      }, 0);
    },
    async failed(client) {
      const key = client.key;
      if (!key || !failedBudget) return;
      await safely(async () => {
        const res = await failedBudget.consume(key);
        if (res.consumedPoints === failedBudget.points) {
          logger.warn(
            { client: key, budget: 'failed', limit: failedBudget.points, windowSeconds: rateLimit.windowSeconds, retryAfter: secondsOf(res) },
            'rate limit reached: this address gets 429 until its window ends',
          );
        }
      }, undefined);
    },
    verified(client) {
      const key = client.key;
      if (!key || !verifiedBudget) return Promise.resolve(0);
      return safely(async () => {
        const res = await verifiedBudget.consume(key);
        if (res.consumedPoints === verifiedBudget.points + 1) {
          logger.warn(
            { client: key, budget: 'verified', limit: verifiedBudget.points, windowSeconds: rateLimit.windowSeconds, retryAfter: secondsOf(res) },
            'rate limit reached for verified deliveries: Svix will retry them later',
          );
        }
        return res.consumedPoints > verifiedBudget.points ? secondsOf(res) : 0;
      }, 0);
    },
    close: () => link?.close() ?? Promise.resolve(),
  };
}
