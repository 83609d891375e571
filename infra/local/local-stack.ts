import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type StageConfig, stageConfig } from '../stages.ts';
import { loadReferenceData } from '../tools/reference-data.ts';
import { type ApiHandler, startApiFront } from './api-front.ts';
import {
  type CagHeadendSimulator,
  type CagSimulatorSettings,
  DEFAULT_CAG_SETTINGS,
  DEFAULT_HEADEND_SECRET,
  type HeadendFaults,
  type HeadendSimulator,
  startHeadendSimulator,
} from './headend-simulator.ts';
import { type ProcessingRunHandler, startScheduleTimer } from './schedule-timer.ts';
import { createTable, LOCAL_AWS_ENV, startDynamo, startQueues } from './services.ts';
import { startSqsPoller, type WorkerHandler } from './sqs-poller.ts';

export const DEMO_DATA_PATH = join(import.meta.dirname, 'demo-data.json');

/**
 * The functions' timeouts as deployed (the dev stage's configuration, the one CDK uses), so that the local stack
 * fails where AWS would: an API call that outlives it gets API Gateway's 502, not an answer.
 */
const timeoutMs = Object.fromEntries(
  Object.entries(stageConfig('dev').functions).map(([name, sizing]) => [name, sizing.timeoutSeconds * 1000]),
) as Record<keyof StageConfig['functions'], number>;

/**
 * The headend the worker talks to (SPEC §5): the simulator in either protocol, or an external headend whose
 * settings (HEADEND_URL and the HEADEND_CAG_* or HEADEND_SECRET variables) the caller's environment gives.
 */
export type HeadendChoice =
  | { protocol?: 'generic'; external?: false }
  | { protocol: 'nagra-cag'; external?: false }
  | { protocol: 'generic' | 'nagra-cag'; external: true };

/** The simulator a choice starts: none for an external headend. */
export type SimulatorOf<C extends HeadendChoice> = C extends { external: true }
  ? undefined
  : C extends { protocol: 'nagra-cag' }
    ? CagHeadendSimulator
    : HeadendSimulator;

/** The smartcard CA ids of the demo data that the simulator knows; `smrt299999` it does not (SPEC §5). */
export const DEMO_KNOWN_CARDS = ['smrt200000', 'smrt200001', 'smrt300000'];

export type LocalStackOptions<C extends HeadendChoice = { protocol?: 'generic' }> = {
  /** API port; 0 picks a free one. */
  port?: number;
  headend?: C;
  /** Where dynalite and fauxqs keep their data; in memory when absent. */
  dataDir?: string;
  headendFaults?: HeadendFaults;
  /** How often the processing run fires (EventBridge fires every minute in AWS). */
  processingIntervalMs?: number;
  /** Run the worker poller and the processing run (off for API-only tests). */
  processing?: boolean;
  /** Extra function configuration (e.g. shorter leases for tests). */
  env?: Record<string, string>;
  /** The API function's timeout (default: the deployed one, from the dev stage's configuration). */
  apiTimeoutMs?: number;
};

export type LocalStack<H = HeadendSimulator> = {
  apiUrl: string;
  headend: H;
  /** Where the worker sends its commands, and in which protocol. */
  headendProtocol: 'generic' | 'nagra-cag';
  headendUrl: string;
  dynamoEndpoint: string;
  sqsEndpoint: string;
  tableName: string;
  queueUrl: string;
  deadLetterQueueUrl: string;
  document: DynamoDBDocumentClient;
  sqs: SQSClient;
  /** Takes DynamoDB down (connections refused) keeping its data, as an outage would; `resumeDynamo` ends it. */
  interruptDynamo(): Promise<void>;
  resumeDynamo(): Promise<void>;
  stop(): Promise<void>;
};

/**
 * The whole service on one machine: dynalite, fauxqs, the headend simulator, the API behind an HTTP front,
 * the SQS poller calling the worker and a timer calling the processing run — the deployed handler code,
 * configured through the same environment variables as in AWS.
 */
export const startLocalStack = async <C extends HeadendChoice = { protocol?: 'generic' }>(
  options: LocalStackOptions<C> = {},
): Promise<LocalStack<SimulatorOf<C>>> => {
  const dynamo = await startDynamo({ dataDir: options.dataDir && join(options.dataDir, 'dynamodb') });
  const queues = await startQueues({
    dataDir: options.dataDir && join(options.dataDir, 'sqs'),
    visibilityTimeoutSeconds: 30,
  });
  const { simulator, env: headendEnv } = await headendOf(options.headend, options.headendFaults);
  const names = { table: 'clear-pin-local-main' };
  await createTable(dynamo.endpoint, names.table);

  Object.assign(process.env, {
    ...LOCAL_AWS_ENV,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_SQS: queues.endpoint,
    TABLE_NAME: names.table,
    QUEUE_URL: queues.queueUrl,
    ...headendEnv,
    POWERTOOLS_SERVICE_NAME: 'clear-pin-local',
    POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
    POWERTOOLS_METRICS_DISABLED: 'true',
    // Local time runs faster than a deployed stage: short leases, grace and back-off.
    IMMEDIATE_GRACE_SECONDS: '10',
    LEASE_SECONDS: '15',
    RETRY_BASE_SECONDS: '1',
    RETRY_CAP_SECONDS: '10',
    HEADEND_TIMEOUT_MS: '3000',
    ...options.env,
  });

  const clientConfig = {
    region: LOCAL_AWS_ENV.AWS_REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
  const document = DynamoDBDocumentClient.from(new DynamoDBClient({ ...clientConfig, endpoint: dynamo.endpoint }), {
    marshallOptions: { removeUndefinedValues: true },
  });
  const sqs = new SQSClient({ ...clientConfig, endpoint: queues.endpoint, useQueueUrlAsEndpoint: false });
  await loadReferenceData(document, names.table, JSON.parse(readFileSync(DEMO_DATA_PATH, 'utf8')));

  const api = (await import('../../functions/api/handler.ts')).handler as unknown as ApiHandler;
  const front = await startApiFront(api, {
    port: options.port ?? 0,
    timeoutMs: options.apiTimeoutMs ?? timeoutMs.api,
  });

  const background: { stop(): Promise<void> }[] = [];
  if (options.processing !== false) {
    const worker = (await import('../../functions/worker/handler.ts')).handler as unknown as WorkerHandler;
    const run = (await import('../../functions/processing-run/handler.ts')).handler as unknown as ProcessingRunHandler;
    background.push(
      startSqsPoller({
        client: sqs,
        queueUrl: queues.queueUrl,
        handler: worker,
        concurrency: 2,
        functionTimeoutMs: timeoutMs.worker,
      }),
    );
    background.push(
      startScheduleTimer({
        handler: run,
        intervalMs: options.processingIntervalMs ?? 2_000,
        functionTimeoutMs: timeoutMs.processingRun,
      }),
    );
  }

  return {
    apiUrl: front.url,
    headend: simulator as SimulatorOf<C>,
    headendProtocol: process.env.HEADEND_PROTOCOL as 'generic' | 'nagra-cag',
    headendUrl: process.env.HEADEND_URL as string,
    dynamoEndpoint: dynamo.endpoint,
    sqsEndpoint: queues.endpoint,
    tableName: names.table,
    queueUrl: queues.queueUrl,
    deadLetterQueueUrl: queues.deadLetterQueueUrl,
    document,
    sqs,
    interruptDynamo: () => dynamo.interrupt(),
    resumeDynamo: () => dynamo.resume(),
    stop: async () => {
      await Promise.all(background.map((b) => b.stop()));
      await front.stop();
      await simulator?.stop();
      await queues.stop();
      await dynamo.stop();
      document.destroy();
      sqs.destroy();
    },
  };
};

/**
 * Starts the simulator of the chosen protocol and answers the worker's environment for it; for an external headend,
 * the settings already in the environment are used as they are (the worker's schema checks them at its start).
 */
const headendOf = async (
  choice: HeadendChoice | undefined,
  faults: HeadendFaults | undefined,
): Promise<{ simulator?: HeadendSimulator | CagHeadendSimulator; env: Record<string, string> }> => {
  const protocol = choice?.protocol ?? 'generic';
  if (choice?.external) return { env: { HEADEND_PROTOCOL: protocol } };
  if (protocol === 'generic') {
    const simulator = await startHeadendSimulator({ knownCards: DEMO_KNOWN_CARDS, faults });
    return {
      simulator,
      env: { HEADEND_PROTOCOL: protocol, HEADEND_URL: simulator.url, HEADEND_SECRET: DEFAULT_HEADEND_SECRET },
    };
  }
  const simulator = await startHeadendSimulator({ protocol, knownCards: DEMO_KNOWN_CARDS, faults });
  return {
    simulator,
    env: { HEADEND_PROTOCOL: protocol, ...cagEnvironment(simulator, DEFAULT_CAG_SETTINGS) },
  };
};

/** What the worker needs to know of a CAG site (SPEC §5), whichever server answers it. */
export type CagSite = Pick<
  CagSimulatorSettings,
  'clientId' | 'username' | 'password' | 'casInstanceName' | 'tenantId' | 'operator'
>;

/** The worker's environment for the CAG server at `server` (`HEADEND_URL` and the `HEADEND_CAG_*` settings). */
export const cagEnvironment = (
  server: { readonly url: string; readonly tokenUrl: string },
  site: CagSite,
): Record<string, string> => ({
  HEADEND_URL: server.url,
  HEADEND_CAG_TOKEN_URL: server.tokenUrl,
  HEADEND_CAG_CLIENT_ID: site.clientId,
  HEADEND_CAG_USERNAME: site.username,
  HEADEND_CAG_PASSWORD: site.password,
  HEADEND_CAG_CAS_INSTANCE: site.casInstanceName,
  HEADEND_CAG_TENANT_ID: site.tenantId,
  HEADEND_CAG_OPERATOR: site.operator,
});
