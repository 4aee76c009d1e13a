/** A clerk-sync logger whose JSON lines are kept in memory, for tests that check what is logged. */
import { Writable } from 'node:stream';
import { createLogger } from '../../src/core/logger.js';

export function captureLogs(level = 'info') {
  const lines: Array<Record<string, any>> = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: createLogger(level, stream) };
}
