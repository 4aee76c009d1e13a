/**
 * The second stage: the receiver. A delivery is verified and stored in the inbox by the group
 * commit writer, within the allow-list and rate limits, and answered once committed. The later
 * stages plug in through `applyWith` (apply at intake) and `setAfterCommit` (inline mode).
 */
import type { Logger } from 'pino';
import type { ResolvedConfig } from '../core/config.js';
import { isDatabaseUnavailable, type Db } from '../core/db.js';
import { beforeDeadline, TIMED_OUT } from '../core/deadline.js';
import { InboxWriter, type IntakeApply } from '../inbox/group-commit.js';
import type { InboxItem } from '../inbox/enqueue.js';
import { deliveryDeadline, errorAnswer, handleWebhookRequest, receiveDelivery, type Delivery, type DeliveryOutcome, type ReceiverAnswer, type ReceiverDeps } from '../receive/receiver.js';
import type { DeliveryLimits } from '../receive/rate-limit.js';
import type { SigningKey } from '../verify/index.js';

export type AfterCommit = (item: InboxItem, commit: { appliedAtIntake: boolean }) => Promise<void>;

/** What a later stage offers the receiver for applying deliveries in the transaction that stores them. */
export interface IntakeApplier {
  /** Awaited before the first delivery is stored, so that `current` can answer synchronously per write. */
  prepare(): Promise<void>;
  /** The apply at intake to use for this write; undefined: store only. */
  current(): IntakeApply | undefined;
}

export interface IntakeOptions {
  config: Pick<ResolvedConfig, 'schema' | 'intake' | 'maxBodyBytes' | 'toleranceSeconds' | 'deliveryTimeoutMs'>;
  /** Null when no secret is configured: every delivery answers 500. */
  keys: readonly SigningKey[] | null;
  ready: () => Promise<Db>;
  logger: Logger;
  now: () => number;
  limits: DeliveryLimits;
}

export interface Intake {
  receive(delivery: Delivery): Promise<ReceiverAnswer>;
  handleWebhook(request: Request, context?: { clientIp?: string }): Promise<Response>;
  onDelivery(listener: (outcome: DeliveryOutcome, elapsedMs: number) => void): void;
  setAfterCommit(fn: AfterCommit | undefined): void;
  /** Set once, before the first delivery, by the composition root. */
  applyWith(applier: IntakeApplier): void;
}

export function createIntake({ config, keys, ready, logger, now, limits }: IntakeOptions): Intake {
  const listeners: Array<(o: DeliveryOutcome, ms: number) => void> = [];
  let afterCommit: AfterCommit | undefined;
  let applier: IntakeApplier | undefined;
  // The deliveries that arrive while the first one opens the database share its build (one
  // writer, one group commit); a failed build is forgotten so the next delivery tries again.
  let receiverDeps: ReceiverDeps | undefined;
  let building: Promise<ReceiverDeps> | undefined;
  const build = async (): Promise<ReceiverDeps> => {
    const db = await ready();
    await applier?.prepare();
    return (receiverDeps = {
      keys,
      db,
      schema: config.schema,
      writer: new InboxWriter(db, config.schema, config.intake, () => applier?.current()),
      maxBodyBytes: config.maxBodyBytes,
      toleranceSeconds: config.toleranceSeconds,
      now,
      logger,
      afterCommit: (item, commit) => (afterCommit ? afterCommit(item, commit) : Promise.resolve()),
      onOutcome: (o, ms) => {
        for (const l of listeners) l(o, ms);
      },
      limits,
      deliveryTimeoutMs: config.deliveryTimeoutMs,
    });
  };
  const deps = (): Promise<ReceiverDeps> =>
    (building ??= build().catch((error: unknown) => {
      building = undefined;
      throw error;
    }));

  const unavailable = (error: unknown): ReceiverAnswer => {
    const down = isDatabaseUnavailable(error);
    logger.error({ err: { message: (error as Error)?.message } }, down ? 'database unavailable' : 'clerk-sync failed to start');
    return errorAnswer(down ? 'database_unavailable' : 'internal_error');
  };

  /** The receiver's dependencies, within the delivery's deadline: the first use opens and migrates the database. */
  const depsBefore = async (arrivedAt: number): Promise<ReceiverDeps | ReceiverAnswer> => {
    // Once built, nothing is awaited: no deadline timer on every delivery of the hot path.
    if (receiverDeps) return receiverDeps;
    try {
      const d = await beforeDeadline(deps(), deliveryDeadline(config, arrivedAt));
      if (d === TIMED_OUT) {
        logger.error({ err: { message: 'the database did not answer within the delivery timeout' } }, 'database unavailable');
        return errorAnswer('database_unavailable');
      }
      return d;
    } catch (error) {
      return unavailable(error);
    }
  };

  return {
    async receive(delivery) {
      const arrivedAt = delivery.arrivedAt ?? performance.now();
      const d = await depsBefore(arrivedAt);
      return 'writer' in d ? receiveDelivery(d, { ...delivery, arrivedAt }) : d;
    },
    async handleWebhook(request, context) {
      const arrivedAt = performance.now();
      const d = await depsBefore(arrivedAt);
      if (!('writer' in d)) return new Response(d.body, { status: d.status, headers: d.headers });
      // Next.js passes its own second argument ({ params }): only a string clientIp is taken.
      const clientIp = typeof context?.clientIp === 'string' ? context.clientIp : undefined;
      return handleWebhookRequest(d, request, clientIp, arrivedAt);
    },
    onDelivery(listener) {
      listeners.push(listener);
    },
    setAfterCommit(fn) {
      afterCommit = fn;
    },
    applyWith(next) {
      applier = next;
    },
  };
}
