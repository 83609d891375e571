import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { only, synthStage } from './helpers.ts';

const prod = synthStage('prod');
const dev = synthStage('dev');

describe('main table', () => {
  const table = only(prod.stateful, 'AWS::DynamoDB::GlobalTable', {
    Properties: { TableName: 'clear-pin-prod-main' },
  });

  it('is keyed by pk alone, on demand, encrypted with KMS, with TTL on ttl', () => {
    expect(table.KeySchema).toEqual([{ AttributeName: 'pk', KeyType: 'HASH' }]);
    expect(table.BillingMode).toBe('PAY_PER_REQUEST');
    expect(table.SSESpecification).toEqual({ SSEEnabled: true, SSEType: 'KMS' });
    expect(table.TimeToLiveSpecification).toEqual({ AttributeName: 'ttl', Enabled: true });
  });

  it('has point-in-time recovery', () => {
    expect(table.Replicas).toEqual([
      expect.objectContaining({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }),
    ]);
  });

  it('has the indexes of every access pattern, keys only but for the two list filters that filter further', () => {
    const keysOnly = { ProjectionType: 'KEYS_ONLY' };
    const withFilters = {
      ProjectionType: 'INCLUDE',
      NonKeyAttributes: ['lifeCycleState', 'priority', 'subscriptionId'],
    };
    const index = (IndexName: string, hash: string, range: string | undefined, Projection: object) => ({
      IndexName,
      KeySchema: [
        { AttributeName: hash, KeyType: 'HASH' },
        ...(range ? [{ AttributeName: range, KeyType: 'RANGE' }] : []),
      ],
      Projection,
    });
    expect(table.GlobalSecondaryIndexes).toEqual([
      index('due', 'dueShard', 'dueAt', keysOnly),
      // Only provisioning requests carry numberKey: a subscription's number never answers show by number.
      index('by-number', 'numberKey', undefined, keysOnly),
      // Entries never move: a list without a state filter reads each request once, whatever happens meanwhile.
      index('by-creation', 'creationKey', 'listSort', keysOnly),
      index('list', 'listKey', 'listSort', keysOnly),
      index('by-subscription', 'listSubscription', 'listSort', withFilters),
      index('by-smartcard', 'listSmartcard', 'listSort', withFilters),
      index('events', 'eventShard', 'eventAt', keysOnly),
    ]);
    expect(table.AttributeDefinitions).toEqual(
      [
        'pk',
        'dueShard',
        'dueAt',
        'numberKey',
        'creationKey',
        'listSort',
        'listKey',
        'listSubscription',
        'listSmartcard',
        'eventShard',
        'eventAt',
      ].map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
    );
  });

  it('is the only table: a keyed create is its own idempotency record', () => {
    expect(Object.keys(prod.stateful.findResources('AWS::DynamoDB::GlobalTable'))).toHaveLength(1);
  });
});

describe('event bus', () => {
  it('is the stage’s, archives its events for replays, and is named in an output', () => {
    expect(only(prod.stateful, 'AWS::Events::EventBus')).toMatchObject({ Name: 'clear-pin-prod-events' });
    expect(only(prod.stateful, 'AWS::Events::Archive')).toMatchObject({
      EventPattern: { source: ['clear-pin.prod'] },
      RetentionDays: 30,
    });
    expect(only(dev.stateful, 'AWS::Events::Archive')).toMatchObject({ RetentionDays: 7 });
    prod.stateful.hasOutput('EventBusName', {});
  });
});

/** Every kind of resource the stateful stack holds data in. */
const STATEFUL_TYPES = [
  'AWS::DynamoDB::GlobalTable',
  'AWS::SQS::Queue',
  'AWS::SecretsManager::Secret',
  'AWS::Events::EventBus',
  'AWS::Events::Archive',
];

describe('removal policy', () => {
  it('retains every stateful resource in prod, and protects the tables from deletion', () => {
    for (const type of STATEFUL_TYPES) {
      for (const resource of Object.values(prod.stateful.findResources(type))) {
        expect(resource).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
      }
    }
    prod.stateful.allResourcesProperties('AWS::DynamoDB::GlobalTable', {
      Replicas: [Match.objectLike({ DeletionProtectionEnabled: true })],
    });
  });

  it('protects the prod stateful stack itself from deletion', () => {
    expect(prod.stacks.stateful.terminationProtection).toBe(true);
    expect(dev.stacks.stateful.terminationProtection).toBe(false);
  });

  it('deletes everything with a dev (or ad-hoc) stage', () => {
    for (const type of STATEFUL_TYPES) {
      for (const resource of Object.values(dev.stateful.findResources(type))) {
        expect(resource).toMatchObject({ DeletionPolicy: 'Delete' });
      }
    }
    dev.stateful.allResourcesProperties('AWS::DynamoDB::GlobalTable', {
      Replicas: [Match.objectLike({ DeletionProtectionEnabled: false })],
    });
  });
});

describe('work queue', () => {
  const queue = only(prod.stateful, 'AWS::SQS::Queue', { Properties: { QueueName: 'clear-pin-prod-work' } });
  const dlq = only(prod.stateful, 'AWS::SQS::Queue', { Properties: { QueueName: 'clear-pin-prod-work-dlq' } });

  it('encrypts both queues and refuses anything but TLS', () => {
    for (const q of [queue, dlq]) expect(q.SqsManagedSseEnabled).toBe(true);
    const policies = Object.values(prod.stateful.findResources('AWS::SQS::QueuePolicy'));
    expect(policies).toHaveLength(2);
    for (const policy of policies) {
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Action: 'sqs:*',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
      );
    }
  });

  it('dead-letters after at least 5 receives', () => {
    const redrive = queue.RedrivePolicy as { maxReceiveCount: number; deadLetterTargetArn: unknown };
    expect(redrive.maxReceiveCount).toBeGreaterThanOrEqual(5);
    expect(redrive.deadLetterTargetArn).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^WorkQueueDeadLetter/), 'Arn'],
    });
  });

  it('hides a message for at least 6 × the worker timeout', () => {
    expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * prod.config.functions.worker.timeoutSeconds);
  });

  it('keeps dead letters longer than the source queue keeps messages', () => {
    expect(dlq.MessageRetentionPeriod as number).toBeGreaterThan(queue.MessageRetentionPeriod as number);
  });
});

describe('headend secret', () => {
  it('starts as a generated placeholder, never a value from the template', () => {
    const secret = only(prod.stateful, 'AWS::SecretsManager::Secret');
    expect(secret.GenerateSecretString).toBeDefined();
    expect(secret.SecretString).toBeUndefined();
  });
});

describe('outputs', () => {
  it('publishes the names the operator and the reference-data loader read', () => {
    for (const name of ['TableName', 'WorkQueueUrl', 'DeadLetterQueueUrl', 'DeadLetterQueueArn', 'HeadendSecretArn']) {
      prod.stateful.hasOutput(name, {});
    }
  });
});
