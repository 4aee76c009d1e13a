/** Prometheus metrics and the queue-state query they share with `status` and the admin page. */
export { createMetrics, type ClerkSyncMetrics, type DeliveryObservation, type MetricsOptions } from './metrics.js';
export { handleMetricsRequest } from './handler.js';
export { createQueueStatsReader, queueStats, type QueueStats } from './queue-stats.js';
