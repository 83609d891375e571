import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { VPC_ACCESS_ACTIONS } from '../../infra/constructs/service-function.ts';
import { loadSiteConfig, SiteConfigError } from '../../infra/site-config.ts';
import { stageConfig } from '../../infra/stages.ts';
import { actionsOf, CAG_HEADEND, only, statementsOf, synthStage, TEST_NETWORK, TEST_SITE } from './helpers.ts';

const scratch = mkdtempSync(join(tmpdir(), 'site-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const workerOf = (template: ReturnType<typeof synthStage>['stateless']) =>
  only(template, 'AWS::Lambda::Function', { Properties: { FunctionName: Match.stringLikeRegexp('-worker$') } });
const workerEnv = (template: ReturnType<typeof synthStage>['stateless']) =>
  (workerOf(template).Environment as { Variables: Record<string, unknown> }).Variables;

describe('the site configuration (SPEC §6)', () => {
  it('is read from a JSON file or given inline', () => {
    const file = join(scratch, 'site.json');
    writeFileSync(file, JSON.stringify(TEST_SITE));
    expect(loadSiteConfig(file)).toEqual(TEST_SITE);
    expect(loadSiteConfig('site.json', scratch)).toEqual(TEST_SITE);
    expect(loadSiteConfig(JSON.stringify(TEST_SITE))).toEqual(TEST_SITE);
    expect(loadSiteConfig(undefined)).toBeUndefined();
  });

  it('names every wrong or missing field, and refuses fields it does not know', () => {
    const wrong = {
      headend: { protocol: 'nagra-cag', baseUrl: 'ftp://cag', casInstanceName: '', tenantId: 't' },
      alarms: { email: 'not-an-address' },
      network: { vpcId: 'vpc-1', subnets: [] },
      headendUrl: 'https://typo.example.net',
    };
    let error: unknown;
    try {
      loadSiteConfig(JSON.stringify(wrong));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SiteConfigError);
    const message = (error as Error).message;
    for (const field of [
      'headend.baseUrl: must be an https URL',
      'headend.casInstanceName: must not be empty',
      'headend.operator: is required',
      'headend.tokenUrl: is required',
      'headend.clientId: is required',
      'alarms.email',
      'network.vpcId: must be a VPC id',
      'network.subnets: at least one subnet',
      'Unrecognized key: "headendUrl"',
    ]) {
      expect(message).toContain(field);
    }
  });

  it('takes only https for the headend and the event endpoints, and endpoint names that differ', () => {
    const refused = (site: unknown) => () => loadSiteConfig(JSON.stringify(site));
    expect(refused({ headend: { protocol: 'generic', url: 'http://headend.example.net' } })).toThrow(
      /headend\.url: must be an https URL/,
    );
    expect(refused({ headend: { ...CAG_HEADEND, tokenUrl: 'http://sso.example.net/token' } })).toThrow(
      /headend\.tokenUrl: must be an https URL/,
    );
    const endpoint = {
      name: 'crm',
      url: 'https://crm.example.net/hook',
      auth: { type: 'apiKey', header: 'x-api-key', secretArn: 'arn:aws:secretsmanager:eu-west-1:1:secret:x' },
    };
    expect(refused({ events: { endpoints: [endpoint, { ...endpoint, url: 'https://other.example.net' }] } })).toThrow(
      /events\.endpoints: names must differ/,
    );
  });

  it('says which file cannot be read or is not JSON', () => {
    expect(() => loadSiteConfig(join(scratch, 'missing.json'))).toThrow(/missing\.json.*cannot be read: ENOENT/s);
    const broken = join(scratch, 'broken.json');
    writeFileSync(broken, '{"headend": ');
    expect(() => loadSiteConfig(broken)).toThrow(/broken\.json.*is not JSON/s);
  });

  it('lets the site override the headend limits of the stage', () => {
    const config = stageConfig('prod', { headend: { ...CAG_HEADEND, maxPerSecond: 20, timeoutMs: 3_000 } });
    expect(config.headend).toMatchObject({ maxPerSecond: 20, timeoutMs: 3_000, maxConcurrency: 20 });
    expect(() => stageConfig('prod', { headend: { ...CAG_HEADEND, timeoutMs: 120_000 } })).toThrow(/timeoutMs/);
  });
});

describe('a stage whose site has configured nothing yet', () => {
  const { stateless, stacks } = synthStage('pr-9', {});

  it('deploys with its processing paused: schedule disabled, worker trigger off, no headend', () => {
    expect(only(stateless, 'AWS::Events::Rule').State).toBe('DISABLED');
    expect(only(stateless, 'AWS::Lambda::EventSourceMapping').Enabled).toBe(false);
    expect(workerEnv(stateless).HEADEND_PROTOCOL).toBe('none');
    expect(workerEnv(stateless).HEADEND_URL).toBeUndefined();
    const secretReads = statementsOf(stateless, 'WorkerFunctionRole').filter((s) =>
      actionsOf(s).includes('secretsmanager:GetSecretValue'),
    );
    expect(secretReads).toEqual([]);
  });

  it('says at synth what is missing', () => {
    const warnings = Annotations.fromStack(stacks.stateless)
      .findWarning('*', Match.anyValue())
      .map((w) => String(w.entry.data));
    expect(warnings.some((w) => w.includes('headend') && w.includes('processing paused'))).toBe(true);
    expect(warnings.some((w) => w.includes('no alarm destination'))).toBe(true);
  });

  it('does not alarm that the paused processing run is silent', () => {
    const alarms = Object.values(stateless.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    expect(alarms.find((a) => a.AlarmName === 'clear-pin-pr-9-oldest-due-request')?.TreatMissingData).toBe(
      'notBreaching',
    );
  });
});

describe('a configured stage', () => {
  it('runs its processing and gives the worker the generic headend and the secret', () => {
    const { stateless, stacks } = synthStage('prod');
    expect(only(stateless, 'AWS::Events::Rule').State).toBe('ENABLED');
    expect(only(stateless, 'AWS::Lambda::EventSourceMapping').Enabled).toBe(true);
    expect(workerEnv(stateless)).toMatchObject({
      HEADEND_PROTOCOL: 'generic',
      HEADEND_URL: 'https://headend.example.net',
      HEADEND_SECRET_ARN: expect.anything(),
    });
    expect(Annotations.fromStack(stacks.stateless).findWarning('*', Match.anyValue())).toEqual([]);
  });

  it('gives the worker the CAG settings of SPEC §4.2, and no credential in the template', () => {
    const { stateless } = synthStage('pr-3', { ...TEST_SITE, headend: CAG_HEADEND });
    expect(workerEnv(stateless)).toMatchObject({
      HEADEND_PROTOCOL: 'nagra-cag',
      HEADEND_URL: CAG_HEADEND.baseUrl,
      HEADEND_SECRET_ARN: expect.anything(),
      HEADEND_CAG_TOKEN_URL: CAG_HEADEND.tokenUrl,
      HEADEND_CAG_CLIENT_ID: 'clear-pin',
      HEADEND_CAG_CAS_INSTANCE: 'cas-1',
      HEADEND_CAG_TENANT_ID: 'tenant-1',
      HEADEND_CAG_OPERATOR: 'crm',
      HEADEND_CAG_OK_CODES: '0',
      HEADEND_CAG_TRANSIENT_CODES: '10035',
    });
    expect(Object.keys(workerEnv(stateless))).not.toContain('HEADEND_CAG_PASSWORD');
  });

  it('gives a CAG stage a placeholder secret the headend refuses, shaped as the worker reads it', () => {
    const { stateful } = synthStage('pr-3', { ...TEST_SITE, headend: CAG_HEADEND });
    expect(only(stateful, 'AWS::SecretsManager::Secret').GenerateSecretString).toMatchObject({
      SecretStringTemplate: JSON.stringify({ username: 'placeholder' }),
      GenerateStringKey: 'password',
    });
    const { stateful: generic } = synthStage('pr-5');
    expect(only(generic, 'AWS::SecretsManager::Secret').GenerateSecretString).not.toHaveProperty(
      'SecretStringTemplate',
    );
  });

  it('places only the worker in the site subnets, with the network-interface permissions Lambda needs', () => {
    const { stateless } = synthStage('pr-4', { ...TEST_SITE, network: TEST_NETWORK });
    expect(workerOf(stateless).VpcConfig).toEqual({
      SubnetIds: TEST_NETWORK.subnets.map((s) => s.id),
      SecurityGroupIds: [expect.anything()],
    });
    for (const other of ['-api$', '-processing-run$']) {
      const fn = only(stateless, 'AWS::Lambda::Function', {
        Properties: { FunctionName: Match.stringLikeRegexp(other) },
      });
      expect(fn.VpcConfig).toBeUndefined();
    }
    const granted = statementsOf(stateless, 'WorkerFunctionRole').flatMap(actionsOf);
    for (const action of VPC_ACCESS_ACTIONS) expect(granted).toContain(action);
  });
});

describe('alarms reach people', () => {
  it('let CloudWatch alarms of this stage publish to the stage topic, over TLS only', () => {
    const { stateless } = synthStage('prod');
    const statements = (
      only(stateless, 'AWS::SNS::TopicPolicy').PolicyDocument as { Statement: Record<string, unknown>[] }
    ).Statement;
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Condition: {
          StringEquals: { 'aws:SourceAccount': expect.anything() },
          ArnLike: { 'aws:SourceArn': expect.objectContaining({ 'Fn::Join': expect.anything() }) },
        },
      }),
    );
    expect(JSON.stringify(statements)).toContain(':alarm:clear-pin-prod-*');
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
    expect(only(stateless, 'AWS::SNS::Subscription')).toMatchObject({ Protocol: 'email', Endpoint: 'ops@example.net' });
  });

  it('notify an existing topic of the site instead, when one is given', () => {
    const topicArn = 'arn:aws:sns:eu-west-1:123456789012:operations';
    const { stateless } = synthStage('pr-5', { ...TEST_SITE, alarms: { topicArn } });
    expect(stateless.findResources('AWS::SNS::Topic')).toEqual({});
    for (const alarm of Object.values(stateless.findResources('AWS::CloudWatch::Alarm'))) {
      expect(alarm.Properties.AlarmActions).toEqual([topicArn]);
    }
  });
});

describe('redeploying a stage', () => {
  /** Properties that fix a physical name; a retained resource with one blocks re-creating the stack. */
  const NAME_PROPERTIES = [
    'QueueName',
    'TopicName',
    'TableName',
    'LogGroupName',
    'BucketName',
    'FunctionName',
    'Name',
    'RuleName',
    'DashboardName',
    'AlarmName',
  ];

  it.each(['prod', 'staging'])('%s: no retained resource of the stateless stack has a fixed name', (stage) => {
    const { stateless } = synthStage(stage);
    const retained = Object.entries(stateless.toJSON().Resources as Record<string, Record<string, unknown>>).filter(
      ([, resource]) => resource.DeletionPolicy === 'Retain' || resource.UpdateReplacePolicy === 'Retain',
    );
    expect(retained.length).toBeGreaterThan(0);
    const named = retained.flatMap(([id, resource]) =>
      NAME_PROPERTIES.filter(
        (p) => (resource.Properties as Record<string, unknown> | undefined)?.[p] !== undefined,
      ).map((p) => `${id}.${p}`),
    );
    expect(named).toEqual([]);
  });
});

describe('events to the site’s endpoints (SPEC §3.1)', () => {
  const endpoint = {
    name: 'crm',
    url: 'https://crm.example.net/hooks/clear-pin',
    auth: {
      type: 'apiKey' as const,
      header: 'x-api-key',
      secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:crm-hook-AbCdEf',
      jsonField: 'apiKey',
    },
    ratePerSecond: 20,
  };
  const { stateless } = synthStage('pr-6', { ...TEST_SITE, events: { endpoints: [endpoint] } });

  it('go through an API destination whose connection reads the credential from the site’s secret', () => {
    expect(only(stateless, 'AWS::Events::ApiDestination')).toMatchObject({
      InvocationEndpoint: endpoint.url,
      HttpMethod: 'POST',
      InvocationRateLimitPerSecond: 20,
    });
    const connection = only(stateless, 'AWS::Events::Connection');
    expect(connection.AuthorizationType).toBe('API_KEY');
    const text = JSON.stringify(connection);
    // A dynamic reference to the secret, never its value.
    expect(text).toContain(`{{resolve:secretsmanager:${endpoint.auth.secretArn}:SecretString:apiKey::}}`);
  });

  it('are every final state of this stage, retried for a day, then kept in a dead-letter queue that alarms', () => {
    const rules = Object.values(stateless.findResources('AWS::Events::Rule')).map((r) => r.Properties);
    const delivery = rules.find((r) => r.EventBusName !== undefined);
    expect(delivery).toMatchObject({
      EventPattern: { source: ['clear-pin.pr-6'] },
      Targets: [
        expect.objectContaining({
          RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86_400 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [expect.stringMatching(/Undelivered/), 'Arn'] } },
        }),
      ],
    });
    const alarms = Object.values(stateless.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    expect(alarms.map((a) => a.AlarmName)).toEqual(
      expect.arrayContaining(['clear-pin-pr-6-event-deliveries-not-empty', 'clear-pin-pr-6-event-deliveries-crm']),
    );
    expect(alarms.find((a) => a.AlarmName === 'clear-pin-pr-6-event-deliveries-crm')).toMatchObject({
      Namespace: 'AWS/Events',
      MetricName: 'FailedInvocations',
    });
  });

  it('name the queue of undelivered events in an output', () => {
    expect(Object.keys(stateless.findOutputs('UndeliveredEventsQueueUrl'))).toEqual(['UndeliveredEventsQueueUrl']);
  });

  it('are not configured where the site names no endpoint', () => {
    const { stateless: none } = synthStage('prod');
    expect(none.findOutputs('UndeliveredEventsQueueUrl')).toEqual({});
    expect(none.findResources('AWS::Events::ApiDestination')).toEqual({});
    expect(none.findResources('AWS::Events::Connection')).toEqual({});
  });
});
