// A namespace import lets esbuild drop zod's unused locales (~360 KB); `import { z }` keeps them all.
import * as z from 'zod';
import { isValidTimeZone } from '../domain/dates.ts';
import { DEFAULT_RETRY_POLICY } from '../domain/retry-policy.ts';

/**
 * The environment contract between CDK and each function: one schema per function, naming every variable that
 * function reads and nothing else. The function parses `process.env` with it at cold start (a misconfigured
 * stage fails at its first invocation, loudly); CDK builds the function's environment from the same schema
 * (`infra/constructs/service-function.ts`), and the infra tests check the synthesized one against it.
 */
const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const positive = (fallback: number) => z.coerce.number().positive().default(fallback);
const name = z.string().min(1);

const POWERTOOLS_LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'];

/** Read by the runtime and by Powertools in every function. */
const runtime = {
  /** `--enable-source-maps`: stack traces in the logs point at the TypeScript sources. */
  NODE_OPTIONS: z.string().optional(),
  POWERTOOLS_SERVICE_NAME: z.string().default('clear-pin'),
  POWERTOOLS_METRICS_NAMESPACE: z.string().default('ClearPin'),
  POWERTOOLS_LOG_LEVEL: z
    .string()
    .default('INFO')
    .refine((level) => POWERTOOLS_LOG_LEVELS.includes(level.toUpperCase()), `one of ${POWERTOOLS_LOG_LEVELS}`),
};

/** Where the events of final states go (SPEC §3.1); read by every function that makes a request final. */
const events = {
  /** The stage's EventBridge bus (AWS). */
  EVENT_BUS_NAME: z.string().optional(),
  /** Locally, instead of a bus: each event is POSTed there (SPEC §5). Neither set: events are dropped. */
  EVENTS_WEBHOOK_URL: z.url().optional(),
  /** The events' `source`: `clear-pin.<stage>`. */
  EVENT_SOURCE: z.string().default('clear-pin.local'),
  /** Event details show date-times in the operator's zone, as show does. */
  OPERATOR_TIME_ZONE: z.string().default('UTC').refine(isValidTimeZone, 'not an IANA time zone'),
};

export const apiEnvironment = z.object({
  ...runtime,
  ...events,
  TABLE_NAME: name,
  QUEUE_URL: name,
  DUE_SHARDS: positiveInt(4),
  /** How long after a process-immediately create the processing run steps in if the queue message was lost. */
  IMMEDIATE_GRACE_SECONDS: positiveInt(60),
});

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

const HOUR_MS = 3_600_000;

/** A comma-separated list, as the CAG response codes are given. */
const list = z
  .string()
  .default('')
  .transform((text) =>
    text
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== ''),
  );

const CAG_SETTINGS = [
  'HEADEND_CAG_TOKEN_URL',
  'HEADEND_CAG_CLIENT_ID',
  'HEADEND_CAG_CAS_INSTANCE',
  'HEADEND_CAG_TENANT_ID',
  'HEADEND_CAG_OPERATOR',
] as const;

export const workerEnvironment = z
  .object({
    ...runtime,
    ...events,
    TABLE_NAME: name,
    QUEUE_URL: name,
    LEASE_SECONDS: positiveInt(120),
    /** Which adapter speaks to the headend (SPEC §4); `none` on a stage whose site has not configured one. */
    HEADEND_PROTOCOL: z.enum(['generic', 'nagra-cag', 'none']).default('generic'),
    /** generic: the base URL of `/commands`; nagra-cag: CAG's base URL. */
    HEADEND_URL: z.url().optional(),
    /**
     * The headend credential in AWS: a Secrets Manager ARN; the secret holds the bearer value (generic) or
     * `{"username","password"}` of the CAG operator account (nagra-cag).
     */
    HEADEND_SECRET_ARN: z.string().optional(),
    /** The credentials themselves, on the local stack only. */
    HEADEND_SECRET: z.string().optional(),
    HEADEND_CAG_USERNAME: z.string().optional(),
    HEADEND_CAG_PASSWORD: z.string().optional(),
    HEADEND_CAG_TOKEN_URL: z.url().optional(),
    HEADEND_CAG_CLIENT_ID: z.string().optional(),
    HEADEND_CAG_CAS_INSTANCE: z.string().optional(),
    HEADEND_CAG_TENANT_ID: z.string().optional(),
    HEADEND_CAG_OPERATOR: z.string().optional(),
    HEADEND_CAG_OK_CODES: list,
    HEADEND_CAG_TRANSIENT_CODES: list,
    HEADEND_TIMEOUT_MS: positiveInt(5_000),
    HEADEND_MAX_CONCURRENCY: positiveInt(10),
    HEADEND_MAX_PER_SECOND: positiveInt(50),
    HEADEND_DEADLINE_HOURS: positive(DEFAULT_RETRY_POLICY.deadlineMs / HOUR_MS),
    RETRY_BASE_SECONDS: positive(DEFAULT_RETRY_POLICY.baseMs / 1000),
    RETRY_CAP_SECONDS: positive(DEFAULT_RETRY_POLICY.capMs / 1000),
    /** The work queue's redrive maxReceiveCount: a transient retry leaves the queue before the DLQ would take it. */
    MAX_RECEIVE_COUNT: positiveInt(DEFAULT_RETRY_POLICY.maxReceiveCount),
  })
  .superRefine((env, ctx) => {
    const require = (name: keyof typeof env, why: string) => {
      if (env[name] === undefined) ctx.addIssue({ code: 'custom', path: [name], message: `is required ${why}` });
    };
    if (env.HEADEND_PROTOCOL === 'none') return;
    require('HEADEND_URL', `for HEADEND_PROTOCOL=${env.HEADEND_PROTOCOL}`);
    if (env.HEADEND_PROTOCOL === 'generic' && env.HEADEND_SECRET_ARN === undefined) {
      require('HEADEND_SECRET', 'when HEADEND_SECRET_ARN is not set (the local stack)');
    }
    if (env.HEADEND_PROTOCOL === 'nagra-cag') {
      for (const setting of CAG_SETTINGS) require(setting, 'for HEADEND_PROTOCOL=nagra-cag');
      if (env.HEADEND_SECRET_ARN === undefined) {
        require('HEADEND_CAG_USERNAME', 'when HEADEND_SECRET_ARN is not set (the local stack)');
        require('HEADEND_CAG_PASSWORD', 'when HEADEND_SECRET_ARN is not set (the local stack)');
      }
    }
  });

export type ApiEnvironment = z.output<typeof apiEnvironment>;
export type ProcessingRunEnvironment = z.output<typeof processingRunEnvironment>;
export type WorkerEnvironment = z.output<typeof workerEnvironment>;

/** The functions' schemas by function, for CDK and the documentation check. */
export const ENVIRONMENTS = {
  api: apiEnvironment,
  'processing-run': processingRunEnvironment,
  worker: workerEnvironment,
} as const;

/** Parses the environment with the function's schema, or throws one error naming every problem. */
export const loadEnvironment = <S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined>,
): z.output<S> => {
  const result = schema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid configuration: ${problems}`);
  }
  return result.data;
};
