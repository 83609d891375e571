import { describe, expect, it } from 'vitest';
import { environmentProblems } from '../../functions/platform/environment.ts';
import { ACCESS_LOG_FIELDS } from '../../infra/constructs/crm-rest-api.ts';
import { ENVIRONMENTS } from '../../infra/contract/environments.ts';
import { API_STAGE_NAME, GATEWAY_ERRORS, ROUTES } from '../../infra/contract/routes.ts';
import { workerHeadendCaps } from '../../infra/stages.ts';
import { actionsOf, only, statementsOf, synthStage } from './helpers.ts';

const { config, stateless } = synthStage('prod');

const fn = (suffix: string) =>
  only(stateless, 'AWS::Lambda::Function', { Properties: { FunctionName: `clear-pin-prod-${suffix}` } });
const envOf = (suffix: string) => (fn(suffix).Environment as { Variables: Record<string, unknown> }).Variables;

/** The synthesized variables with CloudFormation references stood in for by a placeholder string. */
const resolvedEnvOf = (suffix: string) =>
  Object.fromEntries(
    Object.entries(envOf(suffix)).map(([name, value]) => [name, typeof value === 'string' ? value : `{ref:${name}}`]),
  );

describe('functions', () => {
  it.each([
    ['api', config.functions.api],
    ['processing-run', config.functions.processingRun],
    ['worker', config.functions.worker],
  ])('%s runs Node 24 on ARM64 with tracing, source maps and its stage sizing', (suffix, sizing) => {
    expect(fn(suffix)).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      TracingConfig: { Mode: 'Active' },
      MemorySize: sizing.memoryMb,
      Timeout: sizing.timeoutSeconds,
      LoggingConfig: { LogGroup: { Ref: expect.stringMatching(/LogGroup/) } },
    });
    expect(envOf(suffix).NODE_OPTIONS).toBe('--enable-source-maps');
  });

  it('gives each function an explicit log group with the stage retention', () => {
    const groups = Object.values(stateless.findResources('AWS::Logs::LogGroup'));
    expect(groups).toHaveLength(4); // three functions and the API access log
    for (const group of groups) expect(group.Properties.RetentionInDays).toBe(90);
  });

  it.each(Object.entries(ENVIRONMENTS))(
    'gives %s exactly the environment its own schema accepts, no variable it does not read',
    (suffix, schema) => {
      const variables = resolvedEnvOf(suffix);
      expect(environmentProblems(schema, variables)).toBeUndefined();
      expect(Object.keys(variables).length).toBeGreaterThan(5);
    },
  );

  it('sets the stage values of the contract', () => {
    // What the headend takes between two runs: handing on more would only be queued again.
    expect(Number(envOf('processing-run').DISPATCH_LIMIT_PER_RUN)).toBe(
      config.headend.maxPerSecond * config.scheduleRateMinutes * 60,
    );
    expect(envOf('api')).toMatchObject({
      POWERTOOLS_SERVICE_NAME: 'clear-pin-prod',
      POWERTOOLS_METRICS_NAMESPACE: 'ClearPin',
      POWERTOOLS_LOG_LEVEL: 'INFO',
    });
  });

  it('shares the headend caps out over the worker instances and keeps the lease above the worker timeout', () => {
    const env = envOf('worker');
    expect(Number(env.HEADEND_MAX_CONCURRENCY) * config.worker.maxConcurrency).toBeLessThanOrEqual(
      config.headend.maxConcurrency,
    );
    expect(Number(env.HEADEND_MAX_PER_SECOND) * config.worker.maxConcurrency).toBeLessThanOrEqual(
      config.headend.maxPerSecond,
    );
    expect(Number(env.HEADEND_MAX_CONCURRENCY)).toBe(workerHeadendCaps(config).maxConcurrency);
    expect(Number(env.LEASE_SECONDS)).toBeGreaterThan(config.functions.worker.timeoutSeconds);
    expect(Number(env.MAX_RECEIVE_COUNT)).toBe(5);
    expect(Number(envOf('processing-run').PROCESSING_RUN_BUDGET_MS)).toBeLessThan(
      config.functions.processingRun.timeoutSeconds * 1000,
    );
  });
});

describe('worker event source', () => {
  it('reports partial batch failures, with a small batch and the stage maximum concurrency', () => {
    expect(only(stateless, 'AWS::Lambda::EventSourceMapping')).toMatchObject({
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 10,
      ScalingConfig: { MaximumConcurrency: config.worker.maxConcurrency },
    });
  });
});

describe('processing run schedule', () => {
  it('runs every minute with retries and a dead-letter queue on the target', () => {
    const rule = only(stateless, 'AWS::Events::Rule');
    expect(rule.ScheduleExpression).toBe('rate(1 minute)');
    expect(rule.Targets).toEqual([
      expect.objectContaining({
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [expect.stringMatching(/^ProcessingRunFailures/), 'Arn'] } },
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 60 },
      }),
    ]);
  });

  it('sends failed invocations to an on-failure destination', () => {
    expect(only(stateless, 'AWS::Lambda::EventInvokeConfig')).toMatchObject({
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [expect.stringMatching(/^ProcessingRunFailures/), 'Arn'] } },
      },
      MaximumRetryAttempts: 0,
    });
    const failures = only(stateless, 'AWS::SQS::Queue');
    expect(failures).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
  });
});

describe('IAM', () => {
  const roles = { api: 'ApiFunctionRole', processingRun: 'ProcessingRunFunctionRole', worker: 'WorkerFunctionRole' };
  const all = Object.values(roles).flatMap((role) => statementsOf(stateless, role));
  const resourceText = (resource: unknown) => JSON.stringify(resource);
  const actionsOn = (role: string, pattern: RegExp) =>
    statementsOf(stateless, role)
      .filter((s) => pattern.test(resourceText(s.Resource)))
      .flatMap(actionsOf)
      .sort();

  it('never grants a wildcard action, and "*" resources only for X-Ray', () => {
    expect(all.length).toBeGreaterThan(10);
    for (const statement of all) {
      for (const action of actionsOf(statement)) expect(action).not.toContain('*');
      if (statement.Resource === '*') {
        expect(actionsOf(statement).sort()).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
      }
    }
  });

  it('attaches no managed policy to the function roles', () => {
    for (const role of Object.values(stateless.findResources('AWS::IAM::Role'))) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });

  it('lets the api read and write items, query only the show and list indexes, send, and publish events', () => {
    expect(actionsOn(roles.api, /MainTable.*Arn[^/]*"}}$/)).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
    ]);
    for (const index of ['by-number', 'by-creation', 'list', 'by-subscription', 'by-smartcard']) {
      expect(actionsOn(roles.api, new RegExp(`/index/${index}"`)), index).toEqual(['dynamodb:Query']);
    }
    expect(actionsOn(roles.api, /\/index\/due/)).toEqual([]);
    expect(actionsOn(roles.api, /\/index\/events/)).toEqual([]);
    expect(actionsOn(roles.api, /WorkQueue/)).toEqual(['sqs:SendMessage']);
    expect(actionsOn(roles.api, /EventBus/)).toEqual(['events:PutEvents']);
  });

  it('lets the processing run query only the due and events indexes, read and update items, send and publish', () => {
    expect(actionsOn(roles.processingRun, /MainTable.*Arn[^/]*"}}$/)).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:UpdateItem',
    ]);
    expect(actionsOn(roles.processingRun, /\/index\/due/)).toEqual(['dynamodb:Query']);
    expect(actionsOn(roles.processingRun, /\/index\/events/)).toEqual(['dynamodb:Query']);
    expect(actionsOn(roles.processingRun, /\/index\/by-number/)).toEqual([]);
    expect(actionsOn(roles.processingRun, /WorkQueue/)).toEqual(['sqs:SendMessage']);
    expect(actionsOn(roles.processingRun, /EventBus/)).toEqual(['events:PutEvents']);
  });

  it('lets the worker update items, consume the queue, read the headend secret and publish events', () => {
    expect(actionsOn(roles.worker, /MainTable/)).toEqual(['dynamodb:UpdateItem']);
    expect(actionsOn(roles.worker, /EventBus/)).toEqual(['events:PutEvents']);
    expect(actionsOn(roles.worker, /HeadendSecret/)).toEqual(['secretsmanager:GetSecretValue']);
    expect(new Set(actionsOn(roles.worker, /WorkQueue/))).toEqual(
      new Set([
        'sqs:ChangeMessageVisibility',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:ReceiveMessage',
      ]),
    );
  });
});

describe('REST API', () => {
  const stage = only(stateless, 'AWS::ApiGateway::Stage');

  it('throttles, logs execution errors without data and traces', () => {
    expect(stage).toMatchObject({
      StageName: API_STAGE_NAME,
      TracingEnabled: true,
      MethodSettings: [
        {
          HttpMethod: '*',
          ResourcePath: '/*',
          LoggingLevel: 'ERROR',
          DataTraceEnabled: false,
          ThrottlingRateLimit: config.apiThrottling.rateLimit,
          ThrottlingBurstLimit: config.apiThrottling.burstLimit,
        },
      ],
    });
  });

  it('writes JSON access logs that never contain a body, the query string or a header but the user agent', () => {
    const format = (stage.AccessLogSetting as { Format: string }).Format;
    expect(JSON.parse(format)).toEqual(ACCESS_LOG_FIELDS);
    for (const forbidden of ['body', '$input', 'querystring', 'requestOverride', '$context.path', 'header']) {
      expect(format.toLowerCase()).not.toContain(forbidden.toLowerCase());
    }
  });

  it('proxies every route to the one api function, through the structural validator', () => {
    const methods = Object.values(stateless.findResources('AWS::ApiGateway::Method'));
    expect(methods.map((m) => `${m.Properties.HttpMethod} ${m.Properties.OperationName}`).sort()).toEqual(
      ROUTES.map((r) => `${r.method} ${r.operationId}`).sort(),
    );
    for (const method of methods) {
      expect(method.Properties).toMatchObject({
        Integration: {
          Type: 'AWS_PROXY',
          Uri: {
            'Fn::Join': [
              '',
              expect.arrayContaining([{ 'Fn::GetAtt': [expect.stringMatching(/^ApiFunction/), 'Arn'] }]),
            ],
          },
        },
        RequestValidatorId: { Ref: expect.stringMatching(/^ApiValidator/) },
      });
    }
    expect(only(stateless, 'AWS::ApiGateway::RequestValidator')).toMatchObject({
      ValidateRequestBody: true,
      ValidateRequestParameters: true,
    });
  });

  it('declares the show and list query parameters without making the gateway require them', () => {
    const method = (operation: string) =>
      only(stateless, 'AWS::ApiGateway::Method', { Properties: { OperationName: operation } });
    expect(method('showProvisioningRequest').RequestParameters).toEqual({
      'method.request.querystring.token': false,
      'method.request.querystring.provisioning_request_identifier': false,
      'method.request.querystring.fields_set': false,
    });
    const list = method('listProvisioningRequests').RequestParameters as Record<string, boolean>;
    expect(Object.keys(list).sort()).toEqual(
      [
        'token',
        'life_cycle_state',
        'subscription_identifier',
        'smartcard_identifier',
        'created_date_from',
        'created_date_to',
        'priority',
        'number_of_results',
        'offset',
        'fields_set',
      ]
        .map((name) => `method.request.querystring.${name}`)
        .sort(),
    );
    expect(Object.values(list).every((required) => required === false)).toBe(true);
  });

  it('has no body model, so that every body check is the function’s, in SPEC §2.5’s order', () => {
    expect(stateless.findResources('AWS::ApiGateway::Model')).toEqual({});
    for (const method of Object.values(stateless.findResources('AWS::ApiGateway::Method'))) {
      expect(method.Properties.RequestModels).toBeUndefined();
    }
  });

  it('answers its own errors in the CRM.COM envelope', () => {
    const responses = Object.values(stateless.findResources('AWS::ApiGateway::GatewayResponse')).map(
      (r) => r.Properties,
    );
    expect(responses.map((r) => r.ResponseType).sort()).toEqual(GATEWAY_ERRORS.map((e) => e.responseType).sort());
    for (const response of responses) {
      const template = response.ResponseTemplates['application/json'] as string;
      // Stand in for what API Gateway substitutes, then the result must be the envelope.
      const rendered = JSON.parse(
        template.replace('$context.error.messageString', '"Forbidden"').replaceAll('$context.requestId', 'r-1'),
      );
      expect(rendered).toEqual({
        status: { code: expect.any(String), message: expect.any(String), description: expect.any(String) },
        data: null,
      });
    }
    expect(responses.find((r) => r.ResponseType === 'THROTTLED')).toMatchObject({
      StatusCode: '429',
      ResponseParameters: { 'gatewayresponse.header.Retry-After': "'1'" },
    });
    expect(responses.find((r) => r.ResponseType === 'REQUEST_TOO_LARGE')).toMatchObject({ StatusCode: '413' });
  });
});

describe('monitoring', () => {
  const alarms = Object.values(stateless.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
  const alarm = (name: string) => {
    const found = alarms.find((a) => a.AlarmName === `clear-pin-prod-${name}`);
    if (!found) throw new Error(`no alarm ${name}`);
    return found;
  };

  it('alarms when a dead-letter queue is not empty', () => {
    for (const name of ['work-dlq-not-empty', 'processing-run-failures-not-empty']) {
      expect(alarm(name)).toMatchObject({
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Namespace: 'AWS/SQS',
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 0,
      });
    }
  });

  it('alarms on the oldest due request, and when the processing run stops reporting', () => {
    expect(alarm('oldest-due-request')).toMatchObject({
      MetricName: 'OldestDueAgeSeconds',
      Namespace: 'ClearPin',
      Dimensions: [{ Name: 'service', Value: 'clear-pin-prod' }],
      Threshold: config.alarms.oldestDueMinutes * 60,
      TreatMissingData: 'breaching',
    });
  });

  it('alarms on API 5xx, the headend error rate and a refused headend credential', () => {
    expect(alarm('api-5xx')).toMatchObject({ MetricName: '5XXError', Namespace: 'AWS/ApiGateway', Threshold: 0 });
    const rate = alarm('headend-error-rate');
    expect(rate.Threshold).toBe(config.alarms.headendErrorRatePercent);
    expect(JSON.stringify(rate.Metrics)).toContain('HeadendErrors');
    expect(JSON.stringify(rate.Metrics)).toContain('HeadendCalls');
    expect(alarm('headend-unauthorized')).toMatchObject({ MetricName: 'HeadendUnauthorized', Threshold: 0 });
  });

  it('notifies the stage topic of every alarm', () => {
    // 2 dead-letter queues, oldest due, API 5xx, headend error rate and credential, event publish failures.
    expect(alarms).toHaveLength(7);
    for (const a of alarms) expect(a.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^MonitoringAlarmTopic/) }]);
  });

  it('has a dashboard of the service metrics', () => {
    const body = JSON.stringify(only(stateless, 'AWS::CloudWatch::Dashboard').DashboardBody);
    for (const name of [
      'RequestsCreated',
      'RequestsCompleted',
      'RequestsRejected',
      'QueueSendFailures',
      'HeadendLatency',
      'OldestDueAgeSeconds',
      'HeadendErrors',
      'HeadendCalls',
      'HeadendUnauthorized',
    ]) {
      expect(body).toContain(name);
    }
  });

  it('publishes the API URL, alarm topic and dashboard as outputs', () => {
    for (const name of [
      'ApiUrl',
      'AlarmTopicArn',
      'DashboardName',
      'ProcessingRunFailuresQueueUrl',
      'ProcessingEnabled',
    ]) {
      stateless.hasOutput(name, {});
    }
  });
});
