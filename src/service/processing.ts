/**
 * The third stage: applying stored events (worker, drain, inline mode, apply at intake) and
 * sending their side effects. The hooks and the outbox registry exist from construction, for
 * the app to register into; the apply stage itself (projections, and with them drizzle-orm and
 * the payload schemas) is imported by the first call that applies something, so a route that
 * only stores deliveries for a worker elsewhere never loads it.
 */
import type { Logger } from 'pino';
import type { ResolvedConfig } from '../core/config.js';
import type { Db } from '../core/db.js';
import type { DrainSummary, Runner, RunningWorker } from '../apply/runner.js';
import { OutboxRegistry } from '../outbox/registry.js';
import { Hooks } from '../projections/hooks.js';
import { configuredSenders } from '../senders/index.js';
import type { AfterCommit, IntakeApplier } from './intake.js';
import type { LazyMetrics } from './metrics.js';

export interface ProcessingOptions {
  config: Pick<ResolvedConfig, 'schema' | 'mode' | 'intake' | 'deleteMode' | 'sideEffects' | 'worker' | 'outbox' | 'resend' | 'slackWebhookUrl' | 'templates' | 'retentionDays'>;
  ready: () => Promise<Db>;
  logger: Logger;
  metrics: LazyMetrics;
}

export interface Processing {
  readonly hooks: Hooks;
  readonly outbox: OutboxRegistry;
  /** Apply at intake only where this process applies events anyway (a worker runs here, or inline mode). */
  readonly intakeApplier: IntakeApplier;
  /** Inline mode's step after each commit: apply the event (unless applied at intake), then send. */
  readonly inline: AfterCommit;
  startWorker(options?: { apply?: boolean; dispatch?: boolean }): Promise<RunningWorker>;
  drain(options?: { dispatch?: boolean; budgetMs?: number }): Promise<DrainSummary>;
  /** Stops the workers started here (graceful). */
  stop(): Promise<void>;
}

export function createProcessing({ config, ready, logger, metrics }: ProcessingOptions): Processing {
  const hooks = new Hooks();
  const outbox = new OutboxRegistry();
  const builtIn = configuredSenders(config);
  for (const sender of builtIn.senders) outbox.register(sender.kind, sender);

  let loaded: Runner | undefined;
  let loading: Promise<Runner> | undefined;
  const runner = (): Promise<Runner> =>
    (loading ??= import('../apply/runner.js').then(
      ({ Runner }) =>
        (loaded = new Runner({
          db: ready,
          schema: config.schema,
          logger,
          deleteMode: config.deleteMode,
          hooks,
          registry: outbox,
          sideEffects: config.sideEffects,
          worker: config.worker,
          outbox: config.outbox,
          notes: builtIn.notes,
          retentionDays: config.retentionDays,
          onApply: (type, outcome, ms) => metrics.current()?.observeApply(type, outcome, ms),
        })),
    ));
  // Apply at intake uses the hooks, senders and side-effect rules a worker here would use
  // (apply/intake.ts): in inline mode always, in worker mode once a worker runs here (and so has
  // loaded the stage).
  const applyingHere = (): boolean => config.mode === 'inline' || loaded?.applying === true;

  return {
    hooks,
    outbox,
    intakeApplier: {
      prepare: async () => {
        if (config.intake.apply && config.mode === 'inline') await runner();
      },
      current: () => (config.intake.apply && applyingHere() ? loaded?.intake : undefined),
    },
    inline: async (item, commit) => (await runner()).inline(item.id, commit),
    startWorker: async (options) => (await runner()).start(options),
    drain: async (options) => (await runner()).drain(options),
    async stop() {
      if (loading) await (await loading).stopAll();
    },
  };
}
