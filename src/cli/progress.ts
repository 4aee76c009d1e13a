/**
 * Progress for long CLI work (backfill, replay, drain): a redrawn bar with counts, rate and ETA
 * when stdout (and the progress stream) is a terminal, plain log lines every few seconds otherwise
 * (CI logs and `> file` runs must stay readable, and carriage returns would garble them). It
 * writes to stderr, so results on stdout stay clean for pipes. No dependency.
 *
 * @example
 * const progress = createProgress({ label: 'users', total: 10_000 });
 * progress.tick(500);
 * progress.done('10000 users');
 */

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  label: string;
  /** Unknown totals show a count and a rate, no bar or ETA. */
  total?: number;
  /** @default process.stderr, so stdout stays clean for results. */
  stream?: ProgressStream;
  /** Force terminal or plain rendering. @default stdout and the stream are both terminals */
  tty?: boolean;
  /** Plain mode: one line per this many ms at most, the first after as long (short work prints only its final line). @default 5000 */
  logEveryMs?: number;
  /** Where a resumed run starts counting: the rate and ETA measure only what this run does. @default 0 */
  start?: number;
  now?: () => number;
}

export interface Progress {
  /** Adds n (default 1) to the count. */
  tick(n?: number): void;
  /** Sets the count to an absolute value (a resumed run starts above zero). */
  set(count: number): void;
  setTotal(total: number | undefined): void;
  /** Final line; the bar is replaced by it. */
  done(message?: string): void;
}

// Terminal redraws are capped: a bar that redraws on every tick costs more than the work.
const REDRAW_MS = 100;

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}

function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return '?/s';
  return perSecond >= 100 ? `${Math.round(perSecond)}/s` : `${perSecond.toFixed(1)}/s`;
}

export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const tty = options.tty ?? (options.stream ? stream.isTTY === true : process.stdout.isTTY === true && process.stderr.isTTY === true);
  const now = options.now ?? Date.now;
  const logEvery = options.logEveryMs ?? 5000;
  const started = now();
  let total = options.total;
  let count = options.start ?? 0;
  const base = count;
  let lastDraw = tty ? -Infinity : started;
  let finished = false;

  const describe = (final = false): string => {
    const elapsed = (now() - started) / 1000;
    const rate = elapsed > 0 ? (count - base) / elapsed : 0;
    const parts = [total !== undefined ? `${count}/${total}` : String(count)];
    if (total !== undefined && total > 0) parts.push(`${Math.min(100, Math.floor((count / total) * 100))}%`);
    parts.push(formatRate(rate));
    if (!final && total !== undefined && rate > 0) parts.push(`ETA ${formatDuration(Math.max(0, total - count) / rate)}`);
    return parts.join('  ');
  };

  const draw = (force: boolean): void => {
    if (finished) return;
    const t = now();
    if (!force && t - lastDraw < (tty ? REDRAW_MS : logEvery)) return;
    lastDraw = t;
    if (!tty) {
      stream.write(`${options.label}: ${describe()}\n`);
      return;
    }
    const width = Math.max(10, Math.min(30, (stream.columns ?? 80) - 60));
    let bar = '';
    if (total !== undefined && total > 0) {
      const filled = Math.min(width, Math.round((count / total) * width));
      bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] `;
    }
    stream.write(`\r\x1b[2K${options.label} ${bar}${describe()}`);
  };

  return {
    tick(n = 1) {
      count += n;
      draw(false);
    },
    set(value) {
      count = value;
      draw(false);
    },
    setTotal(value) {
      total = value;
    },
    done(message) {
      if (finished) return;
      const elapsed = formatDuration((now() - started) / 1000);
      const line = `${options.label}: ${message ?? describe(true)} (${elapsed})`;
      stream.write(tty ? `\r\x1b[2K${line}\n` : `${line}\n`);
      finished = true;
    },
  };
}
