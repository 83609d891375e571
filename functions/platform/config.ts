// A namespace import lets esbuild drop zod's unused locales (~360 KB); `import { z }` keeps them all.
import * as z from 'zod';
import { isValidTimeZone } from '../domain/dates.ts';
import { DEFAULT_RETRY_POLICY } from '../domain/retry-policy.ts';

const HOUR_MS = 3_600_000;

/**
 * Configuration from the environment, validated once at cold start so a misconfigured stage fails loudly
 * at its first invocation instead of misbehaving later.
 */
const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const common = {
  TABLE_NAME: z.string().min(1),
  DUE_SHARDS: positiveInt(4),
  /** How long after a process-immediately create the processing run steps in if the queue message was lost. */
  IMMEDIATE_GRACE_SECONDS: positiveInt(60),
};

export const apiConfigSchema = z.object({
  ...common,
  // Only the API shows date-times. Checking the zone builds the process's first Intl.DateTimeFormat (ICU's
  // start-up, ~20 ms), which the worker and the processing run would pay at every cold start for nothing.
  OPERATOR_TIME_ZONE: z.string().default('UTC').refine(isValidTimeZone, 'not an IANA time zone'),
  IDEMPOTENCY_TABLE_NAME: z.string().min(1),
  QUEUE_URL: z.string().min(1),
});

export const loadConfig = <S extends z.ZodType>(schema: S, env: Record<string, string | undefined>): z.output<S> => {
  const result = schema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid configuration: ${problems}`);
  }
  return result.data;
};

export const processingRunConfigSchema = z.object({
  ...common,
  QUEUE_URL: z.string().min(1),
  LEASE_SECONDS: positiveInt(120),
  PROCESSING_RUN_BUDGET_MS: positiveInt(45_000),
  /** At most this many requests per run: the headend's rate times the schedule period (set by the stage). */
  DISPATCH_LIMIT_PER_RUN: positiveInt(3_000),
  DUE_PAGE_SIZE: positiveInt(100),
});

export const workerConfigSchema = z
  .object({
    ...common,
    QUEUE_URL: z.string().min(1),
    HEADEND_URL: z.url(),
    HEADEND_SECRET_ARN: z.string().optional(),
    HEADEND_SECRET: z.string().optional(),
    HEADEND_TIMEOUT_MS: positiveInt(5_000),
    HEADEND_MAX_CONCURRENCY: positiveInt(10),
    HEADEND_MAX_PER_SECOND: positiveInt(50),
    HEADEND_DEADLINE_HOURS: z.coerce
      .number()
      .positive()
      .default(DEFAULT_RETRY_POLICY.deadlineMs / HOUR_MS),
    RETRY_BASE_SECONDS: z.coerce
      .number()
      .positive()
      .default(DEFAULT_RETRY_POLICY.baseMs / 1000),
    RETRY_CAP_SECONDS: z.coerce
      .number()
      .positive()
      .default(DEFAULT_RETRY_POLICY.capMs / 1000),
    LEASE_SECONDS: positiveInt(120),
    /** The work queue's redrive maxReceiveCount: a transient retry leaves the queue before the DLQ would take it. */
    MAX_RECEIVE_COUNT: positiveInt(5),
  })
  .refine((c) => c.HEADEND_SECRET_ARN !== undefined || c.HEADEND_SECRET !== undefined, {
    message: 'HEADEND_SECRET_ARN (AWS) or HEADEND_SECRET (local) is required',
  });
