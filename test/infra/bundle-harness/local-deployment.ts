import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CreateTableCommand, type CreateTableCommandInput, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startFauxqs } from 'fauxqs';
import {
  DEFAULT_HEADEND_SECRET,
  type HeadendSimulator,
  startHeadendSimulator,
} from '../../../infra/local/headend-simulator.ts';
import { LOCAL_AWS_ENV, startDynamo } from '../../../infra/local/services.ts';
import { loadReferenceData } from '../../../infra/tools/reference-data.ts';
import {
  type Lookup,
  type Placement,
  physicalValues,
  type ResourceAttribute,
  resolveValue,
  resourceOf,
  resourcesOfType,
  type Templates,
} from './cloudformation.ts';
import { type PutEvent, startEventBridge } from './event-bridge.ts';
import { type ResourceArns, resourceArns } from './grants.ts';
import { type SignedCall, startRecordingProxy } from './recording-proxy.ts';
import { startSecretsManager } from './secrets-manager.ts';
import type { DeployedFunction, SynthesizedStage } from './synth.ts';

/** fauxqs's account and the local stack's region: the ARNs of the templates' resources use the same. */
export const PLACEMENT: Placement = { region: LOCAL_AWS_ENV.AWS_REGION, account: '000000000000' };

const DEMO_DATA = new URL('../../../infra/local/demo-data.json', import.meta.url);

/** The queue attributes CloudFormation sets from AWS::SQS::Queue properties of the same name. */
const QUEUE_ATTRIBUTES = [
  'VisibilityTimeout',
  'MessageRetentionPeriod',
  'DelaySeconds',
  'ReceiveMessageWaitTimeSeconds',
  'MaximumMessageSize',
  'FifoQueue',
  'ContentBasedDeduplication',
];

const TABLE_PROPERTIES = ['KeySchema', 'AttributeDefinitions', 'GlobalSecondaryIndexes', 'LocalSecondaryIndexes'];

export type LocalDeployment = {
  readonly templates: Templates;
  readonly headend: HeadendSimulator;
  /** Values as deployed here (queue URLs are the local queues'); names and ARNs otherwise as in AWS. */
  readonly lookup: Lookup;
  /** ARNs of what the recorded calls name, the same as the templates' ARNs of those resources. */
  readonly arns: ResourceArns;
  /** Clients of the harness itself, straight to the local services: their calls are not recorded. */
  readonly document: DynamoDBDocumentClient;
  readonly sqs: SQSClient;
  /** The Lambda environment of a function: its template's variables, resolved here, and Lambda's own. */
  environmentOf(fn: DeployedFunction): Record<string, string>;
  /** The local URL of the queue with this ARN. */
  queueUrlOf(arn: string): string;
  /** The function's ARN, as its invocations' context reports it. */
  arnOf(fn: DeployedFunction): string;
  /** Every event the functions put on a bus, in order. */
  publishedEvents(): PutEvent[];
  /** The DynamoDB, SQS, Secrets Manager and EventBridge calls sent with the function's role credentials, in order. */
  callsOf(fn: DeployedFunction): SignedCall[];
  /** Calls signed with credentials of no function (there should be none). */
  unattributedCalls(): SignedCall[];
  stop(): Promise<void>;
};

const keyOf = (ref: { stack: string; logicalId: string }) => `${ref.stack}/${ref.logicalId}`;

/** The function role's temporary credentials: an access key per function, so that each call says whose it is. */
const accessKeyOf = (fn: DeployedFunction) =>
  `ASIA${createHash('sha256').update(keyOf(fn)).digest('hex').slice(0, 16).toUpperCase()}`;

const tableDefinition = (name: string, properties: Record<string, unknown>): CreateTableCommandInput => {
  const indexes = (key: string) =>
    (properties[key] as Record<string, unknown>[] | undefined)?.map(({ IndexName, KeySchema, Projection }) => ({
      IndexName,
      KeySchema,
      Projection,
    }));
  // Capacity means nothing locally: every table is on demand.
  return {
    TableName: name,
    KeySchema: properties.KeySchema,
    AttributeDefinitions: properties.AttributeDefinitions,
    BillingMode: 'PAY_PER_REQUEST',
    GlobalSecondaryIndexes: indexes('GlobalSecondaryIndexes'),
    LocalSecondaryIndexes: indexes('LocalSecondaryIndexes'),
  } as CreateTableCommandInput;
};

/** A URL on a `.invalid` host: the test site's headend (bundles.test.ts), never resolvable, stood in for by the simulator. */
const isPlaceholderUrl = (value: string) => {
  try {
    return new URL(value).hostname.endsWith('.invalid');
  } catch {
    return false;
  }
};

/**
 * Deploys the templates' tables, queues and secrets locally, as CloudFormation would create them: every
 * DynamoDB table (with its key schema and indexes) in dynalite, every queue (with its attributes and redrive
 * policy) in fauxqs, every secret in a local Secrets Manager, holding the headend simulator's credential (the
 * only secret the service has is the headend's). The functions reach them through recording proxies. Then
 * loads the demo reference data into the table of the `TableName` output, as docs/deploy.md has an operator do.
 */
export const startLocalDeployment = async (synthesized: SynthesizedStage): Promise<LocalDeployment> => {
  const { templates, functions } = synthesized;
  const physical = physicalValues(templates, PLACEMENT);
  // Only the properties used here are resolved: another property naming something unknown here is no concern.
  const resolved = (ref: { stack: string; logicalId: string }, keys: readonly string[]) => {
    const properties = resourceOf(templates, ref.stack, ref.logicalId).Properties ?? {};
    return Object.fromEntries(
      keys
        .filter((key) => properties[key] !== undefined)
        .map((key) => [key, resolveValue(templates, ref.stack, properties[key], physical, PLACEMENT)]),
    );
  };
  const clientConfig = {
    region: PLACEMENT.region,
    credentials: { accessKeyId: LOCAL_AWS_ENV.AWS_ACCESS_KEY_ID, secretAccessKey: LOCAL_AWS_ENV.AWS_SECRET_ACCESS_KEY },
  };

  const dynamo = await startDynamo();
  const dynamoClient = new DynamoDBClient({ ...clientConfig, endpoint: dynamo.endpoint });
  for (const table of [
    ...resourcesOfType(templates, 'AWS::DynamoDB::Table'),
    ...resourcesOfType(templates, 'AWS::DynamoDB::GlobalTable'),
  ]) {
    const properties = resolved(table, TABLE_PROPERTIES);
    const name = physical({ ...table, attribute: 'Ref' }) as string;
    await dynamoClient.send(new CreateTableCommand(tableDefinition(name, properties)));
  }

  const fauxqs = await startFauxqs({ port: 0, host: '127.0.0.1', logger: false });
  const queueUrls = new Map<string, string>();
  // Dead-letter queues first: a redrive policy names an existing queue.
  const queues = resourcesOfType(templates, 'AWS::SQS::Queue').sort(
    (a, b) =>
      Number('RedrivePolicy' in (a.resource.Properties ?? {})) -
      Number('RedrivePolicy' in (b.resource.Properties ?? {})),
  );
  for (const queue of queues) {
    const properties = resolved(queue, [...QUEUE_ATTRIBUTES, 'RedrivePolicy']);
    const attributes = Object.fromEntries(
      QUEUE_ATTRIBUTES.filter((name) => properties[name] !== undefined).map((name) => [name, String(properties[name])]),
    );
    if (properties.RedrivePolicy) attributes.RedrivePolicy = JSON.stringify(properties.RedrivePolicy);
    const name = physical({ ...queue, attribute: 'QueueName' }) as string;
    queueUrls.set(keyOf(queue), fauxqs.createQueue(name, { attributes }).queueUrl);
  }

  const secrets = resourcesOfType(templates, 'AWS::SecretsManager::Secret').map((secret) => {
    const arn = physical({ ...secret, attribute: 'Ref' }) as string;
    return { arn, name: arn.split(':secret:')[1]?.slice(0, -7) ?? arn, value: DEFAULT_HEADEND_SECRET };
  });
  const secretsManager = await startSecretsManager(secrets);
  const eventBridge = await startEventBridge(
    resourcesOfType(templates, 'AWS::Events::EventBus').map((bus) => physical({ ...bus, attribute: 'Name' }) as string),
  );
  const headend = await startHeadendSimulator();

  const recorded: SignedCall[] = [];
  const record = (call: SignedCall) => recorded.push(call);
  const proxies = {
    dynamodb: await startRecordingProxy(dynamo.endpoint, record),
    sqs: await startRecordingProxy(`http://127.0.0.1:${fauxqs.port}`, record),
    secretsManager: await startRecordingProxy(secretsManager.endpoint, record),
    eventBridge: await startRecordingProxy(eventBridge.endpoint, record),
  };

  const lookup: Lookup = (ref: ResourceAttribute) => {
    const isQueueUrl =
      resourceOf(templates, ref.stack, ref.logicalId).Type === 'AWS::SQS::Queue' &&
      (ref.attribute === 'Ref' || ref.attribute === 'QueueUrl');
    return isQueueUrl ? queueUrls.get(keyOf(ref)) : physical(ref);
  };
  const arns = resourceArns(
    PLACEMENT,
    (id) => secrets.find((secret) => secret.arn === id || secret.name === id)?.arn ?? id,
  );

  const document = DynamoDBDocumentClient.from(dynamoClient, { marshallOptions: { removeUndefinedValues: true } });
  const sqs = new SQSClient({
    ...clientConfig,
    endpoint: `http://127.0.0.1:${fauxqs.port}`,
    useQueueUrlAsEndpoint: false,
  });

  const referenceTable = Object.entries(templates).flatMap(([stack, template]) =>
    template.Outputs?.TableName
      ? [resolveValue(templates, stack, template.Outputs.TableName.Value, lookup, PLACEMENT)]
      : [],
  );
  if (referenceTable.length !== 1) throw new Error(`Expected one TableName output, found ${referenceTable.length}`);
  await loadReferenceData(document, String(referenceTable[0]), JSON.parse(readFileSync(DEMO_DATA, 'utf8')));

  const byAccessKey = new Map(functions.map((fn) => [accessKeyOf(fn), fn]));
  const ref = (fn: DeployedFunction, attribute: string) =>
    physical({ stack: fn.stack, logicalId: fn.logicalId, attribute });

  return {
    templates,
    headend,
    lookup,
    arns,
    document,
    sqs,
    environmentOf(fn) {
      const variables = Object.fromEntries(
        Object.entries(fn.variables).map(([name, value]) => {
          const local = resolveValue(templates, fn.stack, value, lookup, PLACEMENT);
          if (typeof local !== 'string') throw new Error(`${fn.logicalId}: ${name} is not a string`);
          return [name, isPlaceholderUrl(local) ? headend.url : local];
        }),
      );
      const functionName = ref(fn, 'Ref') as string;
      const logGroup = (resolved(fn, ['LoggingConfig']).LoggingConfig as { LogGroup?: string } | undefined)?.LogGroup;
      const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
      return {
        ...variables,
        // Lambda's own variables, which a function's configuration cannot set.
        _HANDLER: fn.handler,
        LAMBDA_TASK_ROOT: fn.codeDir,
        AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
        AWS_REGION: PLACEMENT.region,
        AWS_DEFAULT_REGION: PLACEMENT.region,
        AWS_LAMBDA_FUNCTION_NAME: functionName,
        AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
        AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
        AWS_LAMBDA_LOG_GROUP_NAME: logGroup ?? `/aws/lambda/${functionName}`,
        AWS_LAMBDA_LOG_STREAM_NAME: `${day}/[$LATEST]${randomBytes(16).toString('hex')}`,
        AWS_ACCESS_KEY_ID: accessKeyOf(fn),
        AWS_SECRET_ACCESS_KEY: randomBytes(30).toString('base64'),
        AWS_SESSION_TOKEN: randomBytes(64).toString('base64'),
        LANG: 'en_US.UTF-8',
        TZ: ':UTC',
        PATH: '/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin',
        // The only additions: where the SDK finds DynamoDB, SQS, Secrets Manager and EventBridge.
        AWS_ENDPOINT_URL_DYNAMODB: proxies.dynamodb.endpoint,
        AWS_ENDPOINT_URL_SQS: proxies.sqs.endpoint,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: proxies.secretsManager.endpoint,
        AWS_ENDPOINT_URL_EVENTBRIDGE: proxies.eventBridge.endpoint,
      };
    },
    queueUrlOf(arn) {
      const queue = queues.find((q) => physical({ ...q, attribute: 'Arn' }) === arn);
      const url = queue && queueUrls.get(keyOf(queue));
      if (url === undefined) throw new Error(`No queue ${arn} in the templates`);
      return url;
    },
    arnOf: (fn) => ref(fn, 'Arn') as string,
    publishedEvents: () => [...eventBridge.events],
    callsOf: (fn) => recorded.filter((call) => call.accessKeyId === accessKeyOf(fn)),
    unattributedCalls: () => recorded.filter((call) => !byAccessKey.has(call.accessKeyId ?? '')),
    async stop() {
      for (const proxy of Object.values(proxies)) await proxy.stop();
      await headend.stop();
      await secretsManager.stop();
      await eventBridge.stop();
      await fauxqs.stop();
      document.destroy();
      sqs.destroy();
      await dynamo.stop();
    },
  };
};
