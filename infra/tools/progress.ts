// CommonJS: Node's ESM import sees `SingleBar` but not the nested `Format`, so the default import for both.
import cliProgress, { type Params } from 'cli-progress';

/**
 * Every progress line of the bench's scenarios and of the operator tools goes through here, to stderr: stdout is
 * the bench's result channel (bench/lib/child.ts) and the tools' summary, and stderr reaches the terminal or the
 * CI log.
 */

/** A one-off line: what a scenario is about to do. */
export const note = (message: string): void => {
  process.stderr.write(`  · ${message}\n`);
};

export type Progress = {
  /** `done` of the total so far, and optionally the phase now running. */
  update(done: number, phase?: string): void;
  /**
   * For a line counted in seconds of planned measuring: runs `work`, a phase planned to take `seconds`, moving
   * the line on with the clock while it runs, then to the end of the phase.
   */
  during<T>(phase: string, seconds: number, work: () => Promise<T>): Promise<T>;
  /** The final line, with the elapsed time. */
  stop(): void;
};

/** 75 s → "1m15s", 4.2 s → "4s". */
const duration = (seconds: number): string => {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
};

/**
 * A live progress line: "<title> [bar] done/total unit · phase · elapsed · ETA".
 * - On a terminal, cli-progress redraws it in place 4 times a second (so the elapsed time moves between updates).
 * - Elsewhere (a CI log, a pipe), it prints the same line plainly when it starts, every 10 s and when it stops.
 * The ETA is the rate so far over the whole line, projected to the total: the bench's phases run at a steady
 * rate, and a short window would only make it jump.
 */
export const startProgress = (title: string, total: number, unit = ''): Progress => {
  let phase = '';
  const format = (options: object, params: Params) => {
    const elapsed = (Date.now() - params.startTime) / 1000;
    const eta = params.value > 0 ? (elapsed * (params.total - params.value)) / params.value : Number.NaN;
    const bar = cliProgress.Format.BarFormat(params.progress, options);
    const count = `${Math.floor(params.value)}/${params.total}${unit ? ` ${unit}` : ''}`;
    const running = params.value >= params.total ? 'done' : `ETA ${duration(eta)}`;
    return `  ${title} [${bar}] ${count}${phase ? ` · ${phase}` : ''} · elapsed ${duration(elapsed)} · ${running}`;
  };
  const bar = new cliProgress.SingleBar({
    format,
    stream: process.stderr,
    barsize: 20,
    fps: 4,
    forceRedraw: true,
    noTTYOutput: true,
    notTTYSchedule: 10_000,
  });
  bar.start(total, 0);
  let done = 0;
  const update = (value: number, next?: string) => {
    if (next !== undefined) phase = next;
    done = value;
    bar.update(value);
  };
  return {
    update,
    async during(next, seconds, work) {
      const from = done;
      const started = Date.now();
      update(from, next);
      const tick = setInterval(() => update(from + Math.min(seconds, (Date.now() - started) / 1000)), 250);
      try {
        return await work();
      } finally {
        clearInterval(tick);
        update(from + seconds);
      }
    },
    stop: () => bar.stop(),
  };
};
