import * as z from 'zod/mini';
import { DEFAULT_RETRY_POLICY } from '../domain/retry-policy.ts';
import { events, name, positive, positiveInt, runtime, text, url } from '../platform/environment.ts';

const HOUR_MS = 3_600_000;

/** A comma-separated list, as the CAG response codes are given. */
const list = z.pipe(
  z._default(z.string(), ''),
  z.transform((text) =>
    text
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== ''),
  ),
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
    HEADEND_PROTOCOL: z._default(
      z.enum(['generic', 'nagra-cag', 'none'], { error: 'must be generic, nagra-cag or none' }),
      'generic',
    ),
    /** generic: the base URL of `/commands`; nagra-cag: CAG's base URL. */
    HEADEND_URL: url,
    /**
     * The headend credential in AWS: a Secrets Manager ARN; the secret holds the bearer value (generic) or
     * `{"username","password"}` of the CAG operator account (nagra-cag).
     */
    HEADEND_SECRET_ARN: text,
    /** The credentials themselves, on the local stack only. */
    HEADEND_SECRET: text,
    HEADEND_CAG_USERNAME: text,
    HEADEND_CAG_PASSWORD: text,
    HEADEND_CAG_TOKEN_URL: url,
    HEADEND_CAG_CLIENT_ID: text,
    HEADEND_CAG_CAS_INSTANCE: text,
    HEADEND_CAG_TENANT_ID: text,
    HEADEND_CAG_OPERATOR: text,
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
  .check(
    z.superRefine((env, ctx) => {
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
    }),
  );

export type WorkerEnvironment = z.output<typeof workerEnvironment>;
