import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Grant } from 'aws-cdk-lib/aws-iam';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { Construct } from 'constructs';
import { apiEnvironment } from '../functions/api/environment.ts';
import { processingRunEnvironment } from '../functions/processing-run/environment.ts';
import { workerEnvironment } from '../functions/worker/environment.ts';
import { CrmRestApi } from './constructs/crm-rest-api.ts';
import { DeadLetterQueue } from './constructs/dead-letter-queue.ts';
import { EventDeliveries } from './constructs/event-deliveries.ts';
import { ServiceFunction } from './constructs/service-function.ts';
import { ServiceMonitoring } from './constructs/service-monitoring.ts';
import { WorkQueue } from './constructs/work-queue.ts';
import { API_STAGE_NAME, ROUTES } from './contract/routes.ts';
import type { HeadendSite } from './site-config.ts';
import {
  dispatchLimitPerRun,
  eventSource,
  processingRunBudgetMs,
  type StageConfig,
  workerHeadendCaps,
} from './stages.ts';
import type { StatefulStack } from './stateful-stack.ts';

export type StatelessStackProps = StackProps & { readonly stage: StageConfig; readonly stateful: StatefulStack };

const entry = (path: string) => fileURLToPath(new URL(`../functions/${path}`, import.meta.url));

/**
 * The code and everything that can be re-created at will: the three functions, the REST API, the schedule
 * and the monitoring. Each function gets exactly the DynamoDB, SQS and Secrets Manager actions its code uses.
 */
export class StatelessStack extends Stack {
  readonly api: ServiceFunction;
  readonly processingRun: ServiceFunction;
  readonly worker: ServiceFunction;
  readonly restApi: CrmRestApi;

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    const { stage, stateful } = props;
    const { table, workQueue, headendSecret, eventBus } = stateful;
    const runtime = {
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_SERVICE_NAME: stage.serviceName,
      POWERTOOLS_METRICS_NAMESPACE: stage.metricsNamespace,
      POWERTOOLS_LOG_LEVEL: stage.logLevel,
    };
    // Every function that makes a request final publishes its event (SPEC §3.1).
    const events = {
      EVENT_BUS_NAME: eventBus.eventBusName,
      EVENT_SOURCE: eventSource(stage),
      OPERATOR_TIME_ZONE: stage.operatorTimeZone,
    };
    // What every function reads: itself, the events of final states, the table and the work queue.
    const shared = {
      ...runtime,
      ...events,
      TABLE_NAME: table.tableName,
      QUEUE_URL: workQueue.queue.queueUrl,
    };
    const publishEvents = (fn: ServiceFunction) =>
      Grant.addToPrincipal({ grantee: fn, actions: ['events:PutEvents'], resourceArns: [eventBus.eventBusArn] });
    const common = { logRetention: stage.logRetention, removalPolicy: stage.removalPolicy };

    this.api = new ServiceFunction(this, 'ApiFunction', {
      ...common,
      functionName: `${stage.resourcePrefix}-api`,
      description: 'CRM.COM API: login, release, clear_pin, show, list, cancel',
      entry: entry('api/handler.ts'),
      sizing: stage.functions.api,
      environment: {
        schema: apiEnvironment,
        values: {
          ...shared,
          DUE_SHARDS: String(stage.dueShards),
        },
      },
    })
      .grantTable(table, {
        actions: [
          'dynamodb:BatchGetItem',
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
        ],
        indexes: {
          'by-number': ['dynamodb:Query'],
          'by-creation': ['dynamodb:Query'],
          list: ['dynamodb:Query'],
          'by-subscription': ['dynamodb:Query'],
          'by-smartcard': ['dynamodb:Query'],
        },
      })
      .grantQueue(workQueue.queue, 'sqs:SendMessage');
    publishEvents(this.api);

    this.processingRun = new ServiceFunction(this, 'ProcessingRunFunction', {
      ...common,
      functionName: `${stage.resourcePrefix}-processing-run`,
      description: 'Hands due PENDING requests on to the work queue (scheduled)',
      entry: entry('processing-run/handler.ts'),
      sizing: stage.functions.processingRun,
      environment: {
        schema: processingRunEnvironment,
        values: {
          ...shared,
          DUE_SHARDS: String(stage.dueShards),
          LEASE_SECONDS: String(stage.leaseSeconds),
          PROCESSING_RUN_BUDGET_MS: String(processingRunBudgetMs(stage)),
          DISPATCH_LIMIT_PER_RUN: String(dispatchLimitPerRun(stage)),
        },
      },
    })
      .grantTable(table, {
        actions: ['dynamodb:UpdateItem', 'dynamodb:BatchGetItem'],
        indexes: { due: ['dynamodb:Query'], events: ['dynamodb:Query'] },
      })
      .grantQueue(workQueue.queue, 'sqs:SendMessage');
    publishEvents(this.processingRun);

    const caps = workerHeadendCaps(stage);
    // A stage whose site has not configured its headend yet deploys with processing paused (SPEC §6): requests are
    // accepted and wait PENDING; the schedule and the worker's trigger are switched on by configuring the headend.
    const processing = stage.headend.site !== undefined;
    this.worker = new ServiceFunction(this, 'WorkerFunction', {
      ...common,
      network: stage.network,
      functionName: `${stage.resourcePrefix}-worker`,
      description: 'Sends queued requests to the CA headend and records the outcome',
      entry: entry('worker/handler.ts'),
      sizing: stage.functions.worker,
      environment: {
        schema: workerEnvironment,
        values: {
          ...shared,
          LEASE_SECONDS: String(stage.leaseSeconds),
          ...headendEnvironment(stage.headend.site, headendSecret.secretArn),
          HEADEND_TIMEOUT_MS: String(stage.headend.timeoutMs),
          // Per worker instance: the stage's caps divided by the event source's maximum concurrency, so all
          // instances together never exceed what the headend was promised.
          HEADEND_MAX_CONCURRENCY: String(caps.maxConcurrency),
          HEADEND_MAX_PER_SECOND: String(caps.maxPerSecond),
          HEADEND_DEADLINE_HOURS: String(stage.headend.deadlineHours),
          MAX_RECEIVE_COUNT: String(WorkQueue.MAX_RECEIVE_COUNT),
        },
      },
    })
      .grantTable(table, { actions: ['dynamodb:UpdateItem'] })
      // The event source grants receive/delete; the worker also delays a message it will retry later.
      .grantQueue(workQueue.queue, 'sqs:ChangeMessageVisibility');
    if (processing) this.worker.grantSecretRead(headendSecret);
    publishEvents(this.worker);
    this.worker.function.addEventSource(
      new SqsEventSource(workQueue.queue, {
        enabled: processing,
        batchSize: stage.worker.batchSize,
        maxConcurrency: stage.worker.maxConcurrency,
        reportBatchItemFailures: true,
      }),
    );

    // Failed scheduled invocations (EventBridge could not deliver, or the run itself failed) land here. The
    // next run retries anyway, so nothing is retried twice; the queue is for an operator to see why.
    // No fixed name: it is retained with the stage's data, and a fixed name would block redeploying the stack.
    const processingRunFailures = new DeadLetterQueue(this, 'ProcessingRunFailures', {
      removalPolicy: stage.removalPolicy,
    });
    const schedulePeriod = Duration.minutes(stage.scheduleRateMinutes);
    this.processingRun.function.configureAsyncInvoke({
      onFailure: new SqsDestination(processingRunFailures),
      retryAttempts: 0,
      maxEventAge: schedulePeriod,
    });
    new Rule(this, 'ProcessingRunSchedule', {
      ruleName: `${stage.resourcePrefix}-processing-run`,
      description: processing
        ? 'Starts the processing run'
        : 'Starts the processing run (disabled: the stage has no headend configured yet)',
      enabled: processing,
      schedule: Schedule.rate(schedulePeriod),
      targets: [
        new LambdaFunction(this.processingRun.function, {
          deadLetterQueue: processingRunFailures,
          retryAttempts: 2,
          maxEventAge: schedulePeriod,
        }),
      ],
    });
    // cdk-nag recognises a queue as a DLQ only from a redrive policy or a function's dead-letter config.
    Validations.of(processingRunFailures).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself a dead-letter queue: of the processing-run schedule target and of the function’s asynchronous invocations.',
    });

    this.restApi = new CrmRestApi(this, 'Api', {
      restApiName: stage.resourcePrefix,
      handler: this.api.function,
      routes: ROUTES,
      throttling: stage.apiThrottling,
      logRetention: stage.logRetention,
      removalPolicy: stage.removalPolicy,
    });

    const deliveries = new EventDeliveries(this, 'EventDeliveries', {
      bus: eventBus,
      source: eventSource(stage),
      endpoints: stage.eventEndpoints,
      removalPolicy: stage.removalPolicy,
    });

    const monitoring = new ServiceMonitoring(this, 'Monitoring', {
      stage,
      api: this.restApi.api,
      workQueue: workQueue.queue,
      deadLetterQueues: {
        'work-dlq': workQueue.deadLetterQueue,
        'processing-run-failures': processingRunFailures,
        ...(deliveries.deadLetterQueue && { 'event-deliveries': deliveries.deadLetterQueue }),
      },
      eventDeliveryFailures: deliveries.failedInvocations,
    });

    acknowledgeFailureHandling(this);

    new CfnOutput(this, 'ApiUrl', {
      value: this.restApi.api.url,
      description: `Base URL of the API (stage ${API_STAGE_NAME}); routes are appended to it`,
    });
    new CfnOutput(this, 'AlarmTopicArn', { value: monitoring.topic.topicArn, description: 'Alarm notifications' });
    new CfnOutput(this, 'DashboardName', { value: monitoring.dashboard.dashboardName, description: 'Dashboard' });
    new CfnOutput(this, 'ProcessingRunFailuresQueueUrl', {
      value: processingRunFailures.queueUrl,
      description: 'Failed processing-run invocations',
    });
    if (deliveries.deadLetterQueue) {
      new CfnOutput(this, 'UndeliveredEventsQueueUrl', {
        value: deliveries.deadLetterQueue.queueUrl,
        description: 'Events an endpoint did not take within a day of retries',
      });
    }
    new CfnOutput(this, 'ProcessingEnabled', {
      value: String(processing),
      description: 'false while the site configuration has no headend: the schedule and the worker trigger are off',
    });
  }
}

/** The worker's headend settings for the site's protocol (SPEC §4, §6); the credential is in the stage's secret. */
const headendEnvironment = (site: HeadendSite | undefined, secretArn: string) => {
  if (site === undefined) return { HEADEND_PROTOCOL: 'none' };
  if (site.protocol === 'generic') {
    return { HEADEND_PROTOCOL: site.protocol, HEADEND_URL: site.url, HEADEND_SECRET_ARN: secretArn };
  }
  return {
    HEADEND_PROTOCOL: site.protocol,
    HEADEND_URL: site.baseUrl,
    HEADEND_SECRET_ARN: secretArn,
    HEADEND_CAG_TOKEN_URL: site.tokenUrl,
    HEADEND_CAG_CLIENT_ID: site.clientId,
    HEADEND_CAG_CAS_INSTANCE: site.casInstanceName,
    HEADEND_CAG_TENANT_ID: site.tenantId,
    HEADEND_CAG_OPERATOR: site.operator,
    HEADEND_CAG_OK_CODES: site.okCodes.join(','),
    HEADEND_CAG_TRANSIENT_CODES: site.transientCodes.join(','),
  };
};

/** Serverless-pack findings about failure destinations, each answered where the failure really goes. */
const acknowledgeFailureHandling = (stack: StatelessStack) => {
  Validations.of(stack.api.function).acknowledge({
    id: 'Serverless-LambdaDLQ',
    reason:
      'Invoked synchronously by API Gateway only: a failure is answered to the client in the CRM.COM envelope, there is no event to keep.',
  });
  Validations.of(stack.processingRun.function).acknowledge({
    id: 'Serverless-LambdaDLQ',
    reason:
      'Failed asynchronous invocations go to an on-failure destination (the processing-run-failures queue), which AWS recommends over a dead-letter config.',
  });
  Validations.of(stack.worker.function).acknowledge(
    {
      id: 'Serverless-LambdaDLQ',
      reason:
        'Invoked only by its SQS event source: a message that keeps failing moves to the work queue’s redrive DLQ after 5 receives.',
    },
    {
      id: 'Serverless-LambdaEventSourceMappingDestination',
      reason:
        'SQS event sources do not support on-failure destinations; failed messages go to the work queue’s redrive DLQ (maxReceiveCount 5), which has an alarm.',
    },
  );
};
