// zod/mini, as the request schemas: a function that only reads its environment pays ~25 KB for it, not ~90.
import * as z from 'zod/mini';
import { isValidTimeZone } from '../domain/dates.ts';

/**
 * The environment contract between CDK and each function: one schema per function (its `environment.ts`), naming
 * every variable that function reads and nothing else, built from the parts here. The function parses
 * `process.env` with it at cold start (a misconfigured stage fails at its first invocation, loudly); CDK builds the
 * function's environment from the same schema (`infra/constructs/service-function.ts`), and the infra tests check
 * the synthesized one against it. Each function imports only its own schema: a schema is code run at import, which
 * no bundler can drop, so another function's would be paid at every cold start.
 */
// zod/mini carries no message locale: each rule names what it wants, for the errors at synth and at cold start.
export const positiveInt = (fallback: number) =>
  z._default(
    z.coerce.number().check(z.refine((n) => Number.isSafeInteger(n) && n > 0, 'must be a positive whole number')),
    fallback,
  );
export const positive = (fallback: number) =>
  z._default(
    z.coerce.number().check(z.refine((n) => Number.isFinite(n) && n > 0, 'must be a positive number')),
    fallback,
  );
export const name = z.string().check(z.minLength(1, 'must not be empty'));
export const text = z.optional(z.string());
export const url = z.optional(z.url({ error: 'must be an absolute URL' }));

const POWERTOOLS_LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'];

/** Read by the runtime and by Powertools in every function. */
export const runtime = {
  /** `--enable-source-maps`: stack traces in the logs point at the TypeScript sources. */
  NODE_OPTIONS: text,
  POWERTOOLS_SERVICE_NAME: z._default(z.string(), 'clear-pin'),
  POWERTOOLS_METRICS_NAMESPACE: z._default(z.string(), 'ClearPin'),
  POWERTOOLS_LOG_LEVEL: z._default(
    z
      .string()
      .check(
        z.refine((level) => POWERTOOLS_LOG_LEVELS.includes(level.toUpperCase()), `one of ${POWERTOOLS_LOG_LEVELS}`),
      ),
    'INFO',
  ),
};

/** Where the events of final states go (SPEC §3.1); read by every function that makes a request final. */
export const events = {
  /** The stage's EventBridge bus (AWS). */
  EVENT_BUS_NAME: text,
  /** Locally, instead of a bus: each event is POSTed there (SPEC §5). Neither set: events are dropped. */
  EVENTS_WEBHOOK_URL: url,
  /** The events' `source`: `clear-pin.<stage>`. */
  EVENT_SOURCE: z._default(z.string(), 'clear-pin.local'),
  /** Event details show date-times in the operator's zone, as show does. */
  OPERATOR_TIME_ZONE: z._default(z.string().check(z.refine(isValidTimeZone, 'not an IANA time zone')), 'UTC'),
};

/** Any function's environment schema. */
export type EnvironmentSchema = z.ZodMiniObject<z.core.$ZodShape>;

const describe = (issues: readonly z.core.$ZodIssue[]): string =>
  issues.map((i) => `${i.path.join('.') || '(environment)'}: ${i.message}`).join('; ');

/** Parses the environment with the function's schema, or throws one error naming every problem. */
export const loadEnvironment = <S extends EnvironmentSchema>(
  schema: S,
  env: Record<string, string | undefined>,
): z.output<S> => {
  const result = z.safeParse(schema, env);
  if (!result.success) throw new Error(`Invalid configuration: ${describe(result.error.issues)}`);
  return result.data as z.output<S>;
};

/**
 * What is wrong with a function's environment as CDK sets it, or nothing: the schema's problems and also any
 * variable the schema does not name (at runtime Lambda adds its own, so only CDK and the tests check this).
 */
export const environmentProblems = (
  schema: EnvironmentSchema,
  variables: Record<string, string>,
): string | undefined => {
  const unknown = Object.keys(variables).filter((name) => !Object.hasOwn(schema.shape, name));
  const result = z.safeParse(schema, variables);
  const problems = [
    ...unknown.map((name) => `${name}: is not read by this function`),
    ...(result.success ? [] : [describe(result.error.issues)]),
  ];
  return problems.length > 0 ? problems.join('; ') : undefined;
};
