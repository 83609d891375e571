import * as z from 'zod/mini';
import { events, name, positiveInt, runtime } from '../platform/environment.ts';

export const processingRunEnvironment = z.object({
  ...runtime,
  ...events,
  TABLE_NAME: name,
  QUEUE_URL: name,
  DUE_SHARDS: positiveInt(4),
  /** How long a handed-on request is left to the worker before the run looks at it again. */
  LEASE_SECONDS: positiveInt(120),
  PROCESSING_RUN_BUDGET_MS: positiveInt(45_000),
  /** At most this many requests per run: the headend's rate times the schedule period (set by the stage). */
  DISPATCH_LIMIT_PER_RUN: positiveInt(3_000),
  DUE_PAGE_SIZE: positiveInt(100),
});

export type ProcessingRunEnvironment = z.output<typeof processingRunEnvironment>;
