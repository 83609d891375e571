import type { Context, ScheduledEvent } from 'aws-lambda';
import { lambdaContext } from './api-front.ts';

export type ProcessingRunHandler = (event: ScheduledEvent, context: Context) => Promise<unknown>;

const scheduledEvent = (): ScheduledEvent => ({
  version: '0',
  id: crypto.randomUUID(),
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '000000000000',
  time: new Date().toISOString(),
  region: 'us-east-1',
  resources: ['arn:aws:events:us-east-1:000000000000:rule/clear-pin-local-processing-run'],
  detail: {},
});

/** What the EventBridge rule does, every `intervalMs` (runs never overlap here; in AWS they may). */
export const startScheduleTimer = (options: {
  handler: ProcessingRunHandler;
  intervalMs: number;
  functionTimeoutMs?: number;
  onError?: (error: unknown) => void;
}): { stop(): Promise<void> } => {
  let running = true;
  let wake: (() => void) | undefined;
  const loop = (async () => {
    while (running) {
      try {
        await options.handler(
          scheduledEvent(),
          lambdaContext('clear-pin-processing-run', options.functionTimeoutMs ?? 60_000),
        );
      } catch (error) {
        options.onError?.(error);
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, options.intervalMs);
      });
    }
  })();
  return {
    stop: async () => {
      running = false;
      wake?.();
      await loop;
    },
  };
};
