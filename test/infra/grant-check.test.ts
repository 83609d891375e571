import { describe, expect, it } from 'vitest';
import { type CfnTemplate, physicalValues, type Templates } from './bundle-harness/cloudformation.ts';
import {
  missingGrants,
  type Permission,
  permissionsFor,
  type RecordedCall,
  resourceArns,
  roleStatements,
} from './bundle-harness/grants.ts';

/**
 * The grant check on a template written here: two stacks as CDK lays them out (the table, queue and secret in
 * one, the function and its role in the other, referring to them through Fn::GetStackOutput).
 */

const PLACEMENT = { region: 'eu-west-1', account: '123456789012' };
const TABLE_ARN = 'arn:aws:dynamodb:eu-west-1:123456789012:table/orders';
const QUEUE_ARN = 'arn:aws:sqs:eu-west-1:123456789012:work';

const output = (name: string) => ({
  'Fn::GetStackOutput': { StackName: 'data', Region: 'eu-west-1', OutputName: name },
});

type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

const FUNCTION_STATEMENTS: Statement[] = [
  { Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:BatchWriteItem'], Resource: output('TableArn') },
  {
    Effect: 'Allow',
    Action: 'dynamodb:Query',
    Resource: { 'Fn::Join': ['', [output('TableArn'), '/index/due']] },
  },
  { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: output('QueueArn') },
  { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: output('SecretArn') },
];

const templatesWith = (statements: Statement[], inline: Statement[] = []): Templates => {
  const data: CfnTemplate = {
    Resources: {
      Table: { Type: 'AWS::DynamoDB::GlobalTable', Properties: { TableName: 'orders' } },
      Queue: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'work' } },
      Secret: { Type: 'AWS::SecretsManager::Secret', Properties: {} },
    },
    Outputs: {
      TableArn: { Value: { 'Fn::GetAtt': ['Table', 'Arn'] } },
      QueueArn: { Value: { 'Fn::GetAtt': ['Queue', 'Arn'] } },
      SecretArn: { Value: { Ref: 'Secret' } },
    },
  };
  const code: CfnTemplate = {
    Resources: {
      FnRole: {
        Type: 'AWS::IAM::Role',
        Properties: {
          ...(inline.length > 0 && { Policies: [{ PolicyName: 'inline', PolicyDocument: { Statement: inline } }] }),
        },
      },
      FnPolicy: {
        Type: 'AWS::IAM::Policy',
        Properties: { Roles: [{ Ref: 'FnRole' }], PolicyDocument: { Statement: statements } },
      },
      OtherPolicy: {
        Type: 'AWS::IAM::Policy',
        Properties: {
          Roles: [{ Ref: 'OtherRole' }],
          PolicyDocument: { Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
        },
      },
      Fn: { Type: 'AWS::Lambda::Function', Properties: { Role: { 'Fn::GetAtt': ['FnRole', 'Arn'] } } },
    },
  };
  return { data, code };
};

const lookupOf = (templates: Templates) => physicalValues(templates, PLACEMENT);
const secretArn = String(lookupOf(templatesWith([]))({ stack: 'data', logicalId: 'Secret', attribute: 'Ref' }));
const arns = resourceArns(PLACEMENT, (id) => (id === 'headend' ? secretArn : id));

const call = (target: string, body: Record<string, unknown>): RecordedCall => ({ target, body });
const CALLS: RecordedCall[] = [
  call('DynamoDB_20120810.GetItem', { TableName: 'orders', Key: {} }),
  call('DynamoDB_20120810.Query', { TableName: 'orders', IndexName: 'due' }),
  call('DynamoDB_20120810.BatchWriteItem', { RequestItems: { orders: [] } }),
  call('AmazonSQS.SendMessageBatch', {
    QueueUrl: 'http://sqs.eu-west-1.127.0.0.1:4566/123456789012/work',
    Entries: [],
  }),
  call('secretsmanager.GetSecretValue', { SecretId: 'headend' }),
];

const missing = (templates: Templates, calls: RecordedCall[] = CALLS) =>
  missingGrants(calls, roleStatements(templates, 'code', 'Fn', lookupOf(templates), PLACEMENT), arns).map(
    (finding) => finding.missing,
  );

describe('permissionsFor', () => {
  it('maps each operation to the IAM action it needs and the resource it names', () => {
    expect(CALLS.map((c) => permissionsFor(c, arns))).toEqual([
      [{ action: 'dynamodb:GetItem', resource: TABLE_ARN }],
      [{ action: 'dynamodb:Query', resource: `${TABLE_ARN}/index/due` }],
      [{ action: 'dynamodb:BatchWriteItem', resource: TABLE_ARN }],
      [{ action: 'sqs:SendMessage', resource: QUEUE_ARN }],
      [{ action: 'secretsmanager:GetSecretValue', resource: secretArn }],
    ]);
  });

  it('needs every table of a batch, and the item action of each part of a transaction', () => {
    const batch = call('DynamoDB_20120810.BatchGetItem', { RequestItems: { orders: {}, users: {} } });
    expect(permissionsFor(batch, arns)).toEqual([
      { action: 'dynamodb:BatchGetItem', resource: TABLE_ARN },
      { action: 'dynamodb:BatchGetItem', resource: 'arn:aws:dynamodb:eu-west-1:123456789012:table/users' },
    ]);
    const transaction = call('DynamoDB_20120810.TransactWriteItems', {
      TransactItems: [{ Put: { TableName: 'orders' } }, { ConditionCheck: { TableName: 'orders' } }],
    });
    expect(permissionsFor(transaction, arns)).toEqual([
      { action: 'dynamodb:PutItem', resource: TABLE_ARN },
      { action: 'dynamodb:ConditionCheckItem', resource: TABLE_ARN },
    ]);
  });

  it('maps SQS batch operations to the actions of their single forms', () => {
    const url = 'http://localhost/123456789012/work';
    expect(permissionsFor(call('AmazonSQS.DeleteMessageBatch', { QueueUrl: url }), arns)).toEqual([
      { action: 'sqs:DeleteMessage', resource: QUEUE_ARN },
    ]);
    expect(permissionsFor(call('AmazonSQS.ChangeMessageVisibilityBatch', { QueueUrl: url }), arns)).toEqual([
      { action: 'sqs:ChangeMessageVisibility', resource: QUEUE_ARN },
    ]);
  });

  it('cannot map a request without an operation, or of another service', () => {
    expect(permissionsFor({ target: undefined, body: {} }, arns)).toHaveProperty('problem');
    expect(permissionsFor(call('Logs_20140328.PutLogEvents', {}), arns)).toHaveProperty('problem');
  });
});

describe('missingGrants', () => {
  it('finds nothing missing when the role allows every call, action and resource', () => {
    expect(missing(templatesWith(FUNCTION_STATEMENTS))).toEqual([]);
  });

  it('reports the call whose statement is removed', () => {
    for (const [index, statement] of FUNCTION_STATEMENTS.entries()) {
      const without = FUNCTION_STATEMENTS.filter((_, i) => i !== index);
      const reported = missing(templatesWith(without)) as Permission[];
      expect(reported.length).toBeGreaterThan(0);
      for (const permission of reported) expect([statement.Action].flat()).toContain(permission.action);
    }
  });

  it('holds a query to its index: another index, or the table itself, is not granted by one index', () => {
    const queries = [
      call('DynamoDB_20120810.Query', { TableName: 'orders', IndexName: 'by-number' }),
      call('DynamoDB_20120810.Query', { TableName: 'orders' }),
    ];
    expect(missing(templatesWith(FUNCTION_STATEMENTS), queries)).toEqual([
      { action: 'dynamodb:Query', resource: `${TABLE_ARN}/index/by-number` },
      { action: 'dynamodb:Query', resource: TABLE_ARN },
    ]);
  });

  it('reads wildcards as IAM does, and the role’s inline policies', () => {
    const wildcard: Statement[] = [
      { Effect: 'Allow', Action: 'dynamodb:*', Resource: 'arn:aws:dynamodb:*:*:table/orders*' },
      { Effect: 'Allow', Action: ['sqs:Send*'], Resource: '*' },
    ];
    const inline: Statement[] = [{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: '*' }];
    expect(missing(templatesWith(wildcard, inline))).toEqual([]);
  });

  it('lets a Deny win, and does not count an Allow it cannot evaluate the condition of', () => {
    const denied: Statement[] = [
      ...FUNCTION_STATEMENTS,
      { Effect: 'Deny', Action: 'sqs:*', Resource: output('QueueArn') },
    ];
    expect(missing(templatesWith(denied))).toEqual([{ action: 'sqs:SendMessage', resource: QUEUE_ARN }]);
    const conditional = FUNCTION_STATEMENTS.map((s) => ({
      ...s,
      Condition: { Bool: { 'aws:SecureTransport': 'true' } },
    }));
    expect(missing(templatesWith(conditional))).toHaveLength(CALLS.length);
  });

  it('takes no grant from a policy attached to another role', () => {
    expect(missing(templatesWith([]))).toHaveLength(CALLS.length);
  });

  it('reports a call it cannot map', () => {
    expect(missing(templatesWith(FUNCTION_STATEMENTS), [{ target: undefined, body: {} }])).toEqual([
      'a request without an X-Amz-Target operation (none)',
    ]);
  });
});
