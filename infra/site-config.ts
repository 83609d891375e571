import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';

/**
 * What differs between the sites that run the service (SPEC §6): the headend and its protocol, where alarms go,
 * the network the worker runs in. It comes from outside the source — `-c site=<file.json>` or inline JSON in
 * `-c site='{…}'` — and is validated at synth with messages that name the field. Secrets never appear here: the
 * headend credential lives in the stage's Secrets Manager secret (docs/deploy.md).
 */
const required = (what: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? `is required (${what})` : `must be ${what}`;
// The headend credential and the events travel over these: never in the clear.
const https = z.url({ protocol: /^https$/, error: required('an https URL') });
const text = z.string({ error: required('a string') }).min(1, 'must not be empty');
const codes = z.array(text).default([]);

const headendLimits = {
  /** Per call; below the worker's timeout. */
  timeoutMs: z.int().positive().optional(),
  /** For the whole stage; each worker instance gets its share. */
  maxConcurrency: z.int().positive().optional(),
  maxPerSecond: z.int().positive().optional(),
  /** Transient failures are given up after this many hours from the request's due time. */
  deadlineHours: z.number().positive().optional(),
};

const genericHeadend = z.strictObject({
  protocol: z.literal('generic'),
  /** Base URL: commands are POSTed to `{url}/commands` (SPEC §4.1). */
  url: https,
  ...headendLimits,
});

const cagHeadend = z.strictObject({
  protocol: z.literal('nagra-cag'),
  /** CAG's base URL: the command is `PUT {baseUrl}/cag/v1/{casInstanceName}/devices/{deviceId}/pin`. */
  baseUrl: https,
  casInstanceName: text,
  tenantId: text,
  operator: text,
  /** Keycloak's token endpoint (`…/realms/<realm>/protocol/openid-connect/token`). */
  tokenUrl: https,
  clientId: text,
  /** `responseCode`s that mean success besides a `responseText` of `OK`. */
  okCodes: codes,
  /** `responseCode`s of a failed command that are worth retrying. */
  transientCodes: codes,
  ...headendLimits,
});

const secretArn = z.string().startsWith('arn:aws', 'must be a Secrets Manager secret ARN');

/** An HTTPS endpoint that receives every event of the stage, through an EventBridge API destination (SPEC §3.1). */
const eventEndpoint = z.strictObject({
  /** Names its rule, connection and alarm. */
  name: z.string().regex(/^[A-Za-z0-9-]{1,40}$/, 'must be 1–40 letters, digits or -'),
  url: https,
  /** The endpoint's credential, read from an existing secret (never written here). */
  auth: z.discriminatedUnion(
    'type',
    [
      z.strictObject({
        type: z.literal('apiKey'),
        header: text,
        secretArn,
        /** The secret's JSON field holding the key; the whole secret string when absent. */
        jsonField: z.string().optional(),
      }),
      z.strictObject({ type: z.literal('basic'), username: text, secretArn, jsonField: z.string().optional() }),
    ],
    { error: 'type must be "apiKey" or "basic"' },
  ),
  /** Most invocations per second EventBridge makes to it. */
  ratePerSecond: z.int().min(1).max(300).optional(),
});

export const siteConfigSchema = z.strictObject({
  headend: z.discriminatedUnion('protocol', [genericHeadend, cagHeadend], {
    error: 'protocol must be "generic" or "nagra-cag"',
  }),
  alarms: z
    .union([z.strictObject({ email: z.email() }), z.strictObject({ topicArn: z.string().startsWith('arn:aws') })], {
      error: 'must be {"email": "…"} or {"topicArn": "arn:aws:sns:…"}',
    })
    .optional(),
  events: z
    .strictObject({
      endpoints: z
        .array(eventEndpoint)
        .refine((endpoints) => new Set(endpoints.map((e) => e.name)).size === endpoints.length, 'names must differ'),
    })
    .optional(),
  /** Existing subnets for the worker, when the headend is only reachable from a private network. */
  network: z
    .strictObject({
      vpcId: z.string().regex(/^vpc-([0-9a-f]{8}|[0-9a-f]{17})$/, 'must be a VPC id (vpc- and 8 or 17 hex digits)'),
      subnets: z
        .array(
          z.strictObject({
            id: z
              .string()
              .regex(/^subnet-([0-9a-f]{8}|[0-9a-f]{17})$/, 'must be a subnet id (subnet- and 8 or 17 hex digits)'),
            availabilityZone: text,
          }),
        )
        .min(1, 'at least one subnet'),
      securityGroupIds: z
        .array(
          z
            .string()
            .regex(/^sg-([0-9a-f]{8}|[0-9a-f]{17})$/, 'must be a security group id (sg- and 8 or 17 hex digits)'),
        )
        .optional(),
    })
    .optional(),
});

/** A site file may leave out any part; what is missing is reported (and the headend pauses processing). */
const partialSiteConfig = siteConfigSchema.partial();

export type SiteConfig = z.output<typeof partialSiteConfig>;
export type HeadendSite = z.output<typeof siteConfigSchema>['headend'];
export type AlarmDestination = NonNullable<SiteConfig['alarms']>;
export type NetworkSite = NonNullable<SiteConfig['network']>;
export type EventEndpoint = NonNullable<SiteConfig['events']>['endpoints'][number];

export class SiteConfigError extends Error {
  constructor(source: string, problems: string[]) {
    super(`Site configuration ${source} is not valid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'SiteConfigError';
  }
}

/**
 * The site configuration given as `-c site=…`: inline JSON (starting with `{`) or the path of a JSON file.
 * Undefined when none was given; throws a SiteConfigError naming each wrong field.
 */
export const loadSiteConfig = (value: unknown, cwd = process.cwd()): SiteConfig | undefined => {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'object') return parseSiteConfig(value, 'from the CDK context');
  const given = String(value).trim();
  if (given.startsWith('{')) return parseSiteConfig(parseJson(given, 'given inline'), 'given inline');
  const path = resolve(cwd, given);
  let contents: string;
  try {
    contents = readFileSync(path, 'utf8');
  } catch (error) {
    throw new SiteConfigError(path, [`cannot be read: ${(error as NodeJS.ErrnoException).code ?? error}`]);
  }
  return parseSiteConfig(parseJson(contents, path), path);
};

const parseJson = (text: string, source: string): unknown => {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new SiteConfigError(source, [`is not JSON: ${(error as Error).message}`]);
  }
};

export const parseSiteConfig = (input: unknown, source: string): SiteConfig => {
  const result = partialSiteConfig.safeParse(input);
  if (result.success) return result.data;
  throw new SiteConfigError(
    source,
    result.error.issues.map((issue) => `${issue.path.join('.') || '(top level)'}: ${issue.message}`),
  );
};
