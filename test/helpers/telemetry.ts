import type { Log, Metrics, Telemetry } from '../../functions/use-cases/ports.ts';

/** Telemetry for use-case unit tests: log lines and metrics are kept for assertions, nothing is printed. */
export const recordingTelemetry = (): Telemetry & {
  lines: { level: string; message: string; attributes: Record<string, unknown> }[];
  counts: Map<string, number>;
} => {
  const lines: { level: string; message: string; attributes: Record<string, unknown> }[] = [];
  const counts = new Map<string, number>();
  const at =
    (level: string) =>
    (message: string, ...attributes: Record<string, unknown>[]) =>
      lines.push({ level, message, attributes: Object.assign({}, ...attributes) });
  const log: Log = { debug: at('DEBUG'), info: at('INFO'), warn: at('WARN'), error: at('ERROR') };
  const metrics: Metrics = { addMetric: (name, _unit, value) => counts.set(name, (counts.get(name) ?? 0) + value) };
  return { log, metrics, lines, counts };
};
