import { RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { AlarmDestination, EventEndpoint, HeadendSite, NetworkSite, SiteConfig } from './site-config.ts';

export type FunctionSizing = { readonly memoryMb: number; readonly timeoutSeconds: number };

/** Everything that differs between two deployments of the service. */
export type StageConfig = {
  readonly name: string;
  /** Prefix of every physical name, so that two stages can share one account and region. */
  readonly resourcePrefix: string;
  /** Powertools service name: the `service` dimension of every metric, so stages never mix their metrics. */
  readonly serviceName: string;
  readonly metricsNamespace: string;
  readonly logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  readonly logRetention: RetentionDays;
  readonly operatorTimeZone: string;
  readonly dueShards: number;
  readonly functions: {
    readonly api: FunctionSizing;
    readonly processingRun: FunctionSizing;
    readonly worker: FunctionSizing;
  };
  /** How often the processing run looks for due requests. */
  readonly scheduleRateMinutes: number;
  /** Claim lease and dispatch window of a request handed to the worker; must outlast a worker invocation. */
  readonly leaseSeconds: number;
  /** API Gateway stage throttling (token bucket, requests per second). */
  readonly apiThrottling: { readonly rateLimit: number; readonly burstLimit: number };
  readonly worker: {
    readonly batchSize: number;
    /** Most worker instances at once (the SQS event source's maximum concurrency, 2–1000). */
    readonly maxConcurrency: number;
  };
  readonly headend: {
    /** The site's headend (site configuration); absent, the stage deploys with its processing paused. */
    readonly site?: HeadendSite;
    readonly timeoutMs: number;
    /** Caps for the whole stage; each worker instance gets its share (see `workerHeadendCaps`). */
    readonly maxConcurrency: number;
    readonly maxPerSecond: number;
    readonly deadlineHours: number;
  };
  /** Existing subnets the worker runs in (site configuration), when the headend is on a private network. */
  readonly network?: NetworkSite;
  /** HTTPS endpoints that receive the stage's events (site configuration). */
  readonly eventEndpoints: readonly EventEndpoint[];
  /** How long the stage's event bus keeps its events for a replay. */
  readonly eventArchiveDays: number;
  readonly alarms: {
    /** Where alarm notifications go (site configuration): an email on the stage's topic, or an existing topic. */
    readonly destination?: AlarmDestination;
    readonly oldestDueMinutes: number;
    readonly headendErrorRatePercent: number;
  };
  /** What happens to tables, queues, secret and logs when the stage's stacks are deleted. */
  readonly removalPolicy: RemovalPolicy;
  readonly deletionProtection: boolean;
};

const dev: StageConfig = {
  name: 'dev',
  resourcePrefix: 'clear-pin-dev',
  serviceName: 'clear-pin-dev',
  metricsNamespace: 'ClearPin',
  logLevel: 'DEBUG',
  logRetention: RetentionDays.TWO_WEEKS,
  operatorTimeZone: 'UTC',
  dueShards: 4,
  functions: {
    api: { memoryMb: 1024, timeoutSeconds: 10 },
    processingRun: { memoryMb: 512, timeoutSeconds: 60 },
    worker: { memoryMb: 512, timeoutSeconds: 60 },
  },
  scheduleRateMinutes: 1,
  leaseSeconds: 120,
  apiThrottling: { rateLimit: 20, burstLimit: 40 },
  worker: { batchSize: 10, maxConcurrency: 2 },
  // The headend itself comes from the site configuration; these are the defaults it may override.
  headend: {
    timeoutMs: 5_000,
    maxConcurrency: 4,
    maxPerSecond: 10,
    deadlineHours: 24,
  },
  alarms: { oldestDueMinutes: 10, headendErrorRatePercent: 20 },
  eventEndpoints: [],
  eventArchiveDays: 7,
  removalPolicy: RemovalPolicy.DESTROY,
  deletionProtection: false,
};

const staging: StageConfig = {
  ...dev,
  name: 'staging',
  resourcePrefix: 'clear-pin-staging',
  serviceName: 'clear-pin-staging',
  logLevel: 'INFO',
  logRetention: RetentionDays.ONE_MONTH,
  apiThrottling: { rateLimit: 50, burstLimit: 100 },
  worker: { batchSize: 10, maxConcurrency: 5 },
  headend: { ...dev.headend, maxConcurrency: 10, maxPerSecond: 25 },
  alarms: { oldestDueMinutes: 5, headendErrorRatePercent: 10 },
  removalPolicy: RemovalPolicy.RETAIN,
};

const prod: StageConfig = {
  ...staging,
  name: 'prod',
  resourcePrefix: 'clear-pin-prod',
  serviceName: 'clear-pin-prod',
  logRetention: RetentionDays.THREE_MONTHS,
  eventArchiveDays: 30,
  apiThrottling: { rateLimit: 100, burstLimit: 200 },
  worker: { batchSize: 10, maxConcurrency: 5 },
  headend: { ...dev.headend, maxConcurrency: 20, maxPerSecond: 50 },
  removalPolicy: RemovalPolicy.RETAIN,
  deletionProtection: true,
};

export class StageConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StageConfigError';
  }
}

export const NAMED_STAGES: Readonly<Record<string, StageConfig>> = { dev, staging, prod };

/** Lowercase, starts with a letter, short enough for every physical name built from it (Lambda: 64 chars). */
const STAGE_NAME = /^[a-z][a-z0-9-]{0,19}$/;

/**
 * The configuration of a stage: a named one, or an ad-hoc one (`pr-42`) derived from dev, with its own
 * names and dev's disposable removal policy; then the site's headend, network and alarm destination.
 */
export const stageConfig = (name: string, site: SiteConfig = {}): StageConfig => {
  if (!STAGE_NAME.test(name)) {
    throw new StageConfigError(
      `Invalid stage name "${name}": lowercase letters, digits and '-', starting with a letter, ≤ 20`,
    );
  }
  const base = NAMED_STAGES[name] ?? {
    ...dev,
    name,
    resourcePrefix: `clear-pin-${name}`,
    serviceName: `clear-pin-${name}`,
  };
  const headend = site.headend;
  const limits = {
    timeoutMs: headend?.timeoutMs,
    maxConcurrency: headend?.maxConcurrency,
    maxPerSecond: headend?.maxPerSecond,
    deadlineHours: headend?.deadlineHours,
  };
  const config: StageConfig = {
    ...base,
    headend: { ...base.headend, ...definedOnly(limits), site: headend },
    network: site.network,
    eventEndpoints: site.events?.endpoints ?? [],
    alarms: { ...base.alarms, destination: site.alarms },
  };
  validateStage(config);
  return config;
};

const definedOnly = <T extends object>(value: T): Partial<T> =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;

/** What the stage still lacks to run for real; synth names each one in a warning. */
export const missingSiteSettings = (config: StageConfig): string[] => [
  ...(config.headend.site
    ? []
    : [
        'headend: no headend is configured, so the stage deploys with its processing paused (schedule disabled, worker trigger off); requests are accepted and stay PENDING',
      ]),
  ...(config.alarms.destination
    ? []
    : ['alarms: no alarm destination, so alarms reach the stage topic, to which nobody is subscribed']),
];

/** The `source` of the stage's events (SPEC §3.1). */
export const eventSource = (config: Pick<StageConfig, 'name'>): string => `clear-pin.${config.name}`;

/**
 * The stage's headend caps shared out over the worker instances: the event source never runs more than
 * `worker.maxConcurrency` instances, so each one keeping to its share keeps the stage within its caps.
 */
export const workerHeadendCaps = (config: StageConfig) => ({
  maxConcurrency: Math.floor(config.headend.maxConcurrency / config.worker.maxConcurrency),
  maxPerSecond: Math.floor(config.headend.maxPerSecond / config.worker.maxConcurrency),
});

/** The processing run stops handing on with this much of its timeout left, to flush metrics and return. */
const PROCESSING_RUN_RESERVE_MS = 15_000;

/**
 * How many requests one processing run hands on: what the headend takes between two runs. Handing on more only
 * queues requests the worker cannot reach within their dispatch window, and the next run would queue them again.
 */
export const dispatchLimitPerRun = (config: StageConfig): number =>
  config.headend.maxPerSecond * config.scheduleRateMinutes * 60;

export const processingRunBudgetMs = (config: StageConfig): number =>
  config.functions.processingRun.timeoutSeconds * 1000 - PROCESSING_RUN_RESERVE_MS;

/** Refuses a configuration whose parts contradict each other, at synth time rather than in production. */
export const validateStage = (config: StageConfig): void => {
  const problems: string[] = [];
  const { worker, headend, functions } = config;
  if (worker.maxConcurrency < 2 || worker.maxConcurrency > 1000) {
    problems.push('worker.maxConcurrency must be 2–1000 (SQS event source limit)');
  }
  if (worker.batchSize < 1 || worker.batchSize > 10) problems.push('worker.batchSize must be 1–10');
  const caps = workerHeadendCaps(config);
  if (caps.maxConcurrency < 1 || caps.maxPerSecond < 1) {
    problems.push('headend caps must be at least worker.maxConcurrency, so that each worker instance gets ≥ 1');
  }
  if (headend.timeoutMs >= functions.worker.timeoutSeconds * 1000) {
    problems.push('headend.timeoutMs must be below the worker timeout');
  }
  if (config.leaseSeconds <= functions.worker.timeoutSeconds) {
    problems.push('leaseSeconds must be above the worker timeout, so a live worker never loses its claim');
  }
  if (processingRunBudgetMs(config) <= 0) problems.push('the processing run timeout must exceed 15 s');
  if (functions.api.timeoutSeconds >= 29) problems.push('the api timeout must stay below API Gateway’s 29 s');
  if (config.removalPolicy !== RemovalPolicy.RETAIN && config.deletionProtection) {
    problems.push('deletionProtection needs removalPolicy RETAIN');
  }
  if (problems.length > 0) throw new StageConfigError(`Stage ${config.name}: ${problems.join('; ')}`);
};
