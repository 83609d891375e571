import * as z from 'zod/mini';
import { events, name, positiveInt, runtime } from '../platform/environment.ts';

export const apiEnvironment = z.object({
  ...runtime,
  ...events,
  TABLE_NAME: name,
  QUEUE_URL: name,
  DUE_SHARDS: positiveInt(4),
  /** How long after a process-immediately create the processing run steps in if the queue message was lost. */
  IMMEDIATE_GRACE_SECONDS: positiveInt(60),
});

export type ApiEnvironment = z.output<typeof apiEnvironment>;
