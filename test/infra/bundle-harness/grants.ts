import {
  type Lookup,
  type Placement,
  refersTo,
  resolveValue,
  resourceOf,
  resourcesOfType,
  type Templates,
  UnresolvedError,
} from './cloudformation.ts';

/**
 * Does a function's role allow the AWS calls its code sends? Pure: the calls are what a recording proxy saw (the
 * operation from `X-Amz-Target`, the resources from the JSON body), the grants are the identity policies of the
 * function's role in the synthesized template.
 */

/** One request of the AWS JSON protocol, as sent on the wire. */
export type RecordedCall = { readonly target: string | undefined; readonly body: unknown };

/** An IAM action on one resource ARN. */
export type Permission = { readonly action: string; readonly resource: string };

/** The ARNs of what calls name: a table name, a queue URL or name, a secret id (name or ARN). */
export type ResourceArns = {
  table(name: string): string;
  queueUrl(url: string): string;
  queueName(name: string): string;
  secret(id: string): string;
  eventBus(nameOrArn: string): string;
};

/**
 * The ARNs of a deployment in `placement`. A queue URL names its queue in its last path segment (split, not
 * parsed: fauxqs's hosts such as `sqs.us-east-1.127.0.0.1` are no valid URL host).
 */
export const resourceArns = (placement: Placement, secretArn: (id: string) => string): ResourceArns => {
  const { region, account } = placement;
  const queueName = (name: string) => `arn:aws:sqs:${region}:${account}:${name}`;
  return {
    table: (name) => `arn:aws:dynamodb:${region}:${account}:table/${name}`,
    queueUrl: (url) => queueName(url.split('/').pop() ?? ''),
    queueName,
    secret: secretArn,
    eventBus: (name) => (name.startsWith('arn:') ? name : `arn:aws:events:${region}:${account}:event-bus/${name}`),
  };
};

const SQS_ACTIONS: Readonly<Record<string, string>> = {
  SendMessageBatch: 'SendMessage',
  DeleteMessageBatch: 'DeleteMessage',
  ChangeMessageVisibilityBatch: 'ChangeMessageVisibility',
};

/** IAM checks each item of a transaction against the item's own action (there is no TransactWriteItems action). */
const TRANSACT_ACTIONS: Readonly<Record<string, string>> = {
  Put: 'PutItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  ConditionCheck: 'ConditionCheckItem',
  Get: 'GetItem',
};

type Body = Record<string, unknown>;

const dynamodbPermissions = (operation: string, body: Body, arns: ResourceArns): Permission[] => {
  switch (operation) {
    case 'BatchGetItem':
    case 'BatchWriteItem':
      return Object.keys((body.RequestItems ?? {}) as Body).map((table) => ({
        action: `dynamodb:${operation}`,
        resource: arns.table(table),
      }));
    case 'TransactWriteItems':
    case 'TransactGetItems':
      return ((body.TransactItems ?? []) as Body[]).flatMap((item) =>
        Object.entries(item).map(([kind, request]) => ({
          action: `dynamodb:${TRANSACT_ACTIONS[kind] ?? kind}`,
          resource: arns.table(String((request as Body).TableName)),
        })),
      );
    default: {
      if (typeof body.TableName !== 'string') return [{ action: `dynamodb:${operation}`, resource: '*' }];
      const table = arns.table(body.TableName);
      const index = typeof body.IndexName === 'string' ? `/index/${body.IndexName}` : '';
      return [{ action: `dynamodb:${operation}`, resource: `${table}${index}` }];
    }
  }
};

const sqsPermissions = (operation: string, body: Body, arns: ResourceArns): Permission[] => {
  const action = `sqs:${SQS_ACTIONS[operation] ?? operation}`;
  if (typeof body.QueueUrl === 'string') return [{ action, resource: arns.queueUrl(body.QueueUrl) }];
  if (typeof body.QueueName === 'string') return [{ action, resource: arns.queueName(body.QueueName) }];
  return [{ action, resource: '*' }];
};

const secretsManagerPermissions = (operation: string, body: Body, arns: ResourceArns): Permission[] => {
  const action = `secretsmanager:${operation}`;
  if (typeof body.SecretId === 'string') return [{ action, resource: arns.secret(body.SecretId) }];
  if (Array.isArray(body.SecretIdList)) {
    return [
      { action, resource: '*' },
      ...body.SecretIdList.map((id) => ({
        action: 'secretsmanager:GetSecretValue',
        resource: arns.secret(String(id)),
      })),
    ];
  }
  return [{ action, resource: '*' }];
};

const eventBridgePermissions = (operation: string, body: Body, arns: ResourceArns): Permission[] => {
  if (operation !== 'PutEvents') return [{ action: `events:${operation}`, resource: '*' }];
  return ((body.Entries ?? []) as Body[]).map((entry) => ({
    action: 'events:PutEvents',
    resource: arns.eventBus(String(entry.EventBusName ?? 'default')),
  }));
};

/**
 * The permissions one call needs: e.g. `DynamoDB_20120810.Query` on index `due` needs `dynamodb:Query` on
 * `<table ARN>/index/due`, `AmazonSQS.SendMessageBatch` needs `sqs:SendMessage` on the queue. A call of another
 * protocol or service is answered with a problem instead: it cannot be checked, so it must not pass.
 */
export const permissionsFor = (call: RecordedCall, arns: ResourceArns): Permission[] | { problem: string } => {
  const [prefix, operation] = (call.target ?? '').split('.');
  const body = (call.body ?? {}) as Body;
  if (operation === undefined || operation === '') {
    return { problem: `a request without an X-Amz-Target operation (${call.target ?? 'none'})` };
  }
  if (prefix?.startsWith('DynamoDB_')) return dynamodbPermissions(operation, body, arns);
  if (prefix === 'AmazonSQS') return sqsPermissions(operation, body, arns);
  if (prefix === 'secretsmanager') return secretsManagerPermissions(operation, body, arns);
  if (prefix === 'AWSEvents') return eventBridgePermissions(operation, body, arns);
  return { problem: `an operation of an unknown service: ${call.target}` };
};

/** A policy statement with every value resolved to strings. */
export type Statement = {
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: readonly string[];
  readonly NotAction?: readonly string[];
  readonly Resource?: readonly string[];
  readonly NotResource?: readonly string[];
  readonly Condition?: unknown;
};

const list = (value: unknown): string[] | undefined =>
  value === undefined ? undefined : (Array.isArray(value) ? value : [value]).map(String);

/** A lookup that never fails: what has no value becomes a name no request can match. */
const total =
  (lookup: Lookup): Lookup =>
  (ref) =>
    lookup(ref) ?? `unresolved:${ref.stack}/${ref.logicalId}.${ref.attribute}`;

const documentStatements = (
  templates: Templates,
  stack: string,
  document: unknown,
  lookup: Lookup,
  placement: Placement,
): Statement[] => {
  const raw = (document as { Statement?: unknown } | undefined)?.Statement;
  const statements: unknown[] = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  return statements.map((statement) => {
    const resolved = resolveValue(templates, stack, statement, total(lookup), placement) as Record<string, unknown>;
    return {
      Effect: resolved.Effect === 'Deny' ? 'Deny' : 'Allow',
      Action: list(resolved.Action),
      NotAction: list(resolved.NotAction),
      Resource: list(resolved.Resource),
      NotResource: list(resolved.NotResource),
      Condition: resolved.Condition,
    };
  });
};

/**
 * The statements of every identity policy of the function's execution role: the role's inline policies, and the
 * AWS::IAM::Policy and AWS::IAM::ManagedPolicy resources of its stack attached to it. AWS managed policies named
 * by ARN are not in the template, so they grant nothing here.
 */
export const roleStatements = (
  templates: Templates,
  stack: string,
  functionLogicalId: string,
  lookup: Lookup,
  placement: Placement,
): Statement[] => {
  const fn = resourceOf(templates, stack, functionLogicalId);
  const role = fn.Properties?.Role as { 'Fn::GetAtt'?: [string, string] } | undefined;
  const roleId = role?.['Fn::GetAtt']?.[0];
  if (roleId === undefined) throw new UnresolvedError(`${functionLogicalId} has no role of its stack`);
  const roleProperties = resourceOf(templates, stack, roleId).Properties ?? {};
  const inline = ((roleProperties.Policies ?? []) as { PolicyDocument: unknown }[]).map((p) => p.PolicyDocument);
  const attachedToRole = (properties: Record<string, unknown> | undefined) => refersTo(properties?.Roles, roleId);
  const managedByRef = (logicalId: string) => refersTo(roleProperties.ManagedPolicyArns, logicalId);
  const attached = [
    ...resourcesOfType(templates, 'AWS::IAM::Policy').filter((p) => attachedToRole(p.resource.Properties)),
    ...resourcesOfType(templates, 'AWS::IAM::ManagedPolicy').filter(
      (p) => attachedToRole(p.resource.Properties) || managedByRef(p.logicalId),
    ),
  ]
    .filter((p) => p.stack === stack)
    .map((p) => p.resource.Properties?.PolicyDocument);
  return [...inline, ...attached].flatMap((document) =>
    documentStatements(templates, stack, document, lookup, placement),
  );
};

/** IAM's wildcards: `*` any run of characters, `?` one character. */
const matches = (pattern: string, value: string, ignoreCase: boolean): boolean => {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`, ignoreCase ? 'i' : '').test(value);
};

const applies = (statement: Statement, permission: Permission): boolean => {
  const action = statement.Action
    ? statement.Action.some((a) => matches(a, permission.action, true))
    : !(statement.NotAction ?? []).some((a) => matches(a, permission.action, true));
  const resource = statement.Resource
    ? statement.Resource.some((r) => matches(r, permission.resource, false))
    : !(statement.NotResource ?? []).some((r) => matches(r, permission.resource, false));
  return action && resource;
};

/**
 * Whether the statements allow the permission: an Allow applies and no Deny does. An Allow with a condition is
 * not counted (no request context here to evaluate it against), a Deny with one is: unsure means denied.
 */
export const allows = (statements: readonly Statement[], permission: Permission): boolean =>
  statements.some((s) => s.Effect === 'Allow' && s.Condition === undefined && applies(s, permission)) &&
  !statements.some((s) => s.Effect === 'Deny' && applies(s, permission));

export type GrantFinding = { readonly call: RecordedCall; readonly missing: Permission | string };

/**
 * Every call the role does not allow, each with the permission it lacks (or why it cannot be checked). Empty
 * when the role allows everything the function sent.
 */
export const missingGrants = (
  calls: readonly RecordedCall[],
  statements: readonly Statement[],
  arns: ResourceArns,
): GrantFinding[] =>
  calls.flatMap((call): GrantFinding[] => {
    const needed = permissionsFor(call, arns);
    if ('problem' in needed) return [{ call, missing: needed.problem }];
    return needed.filter((permission) => !allows(statements, permission)).map((missing) => ({ call, missing }));
  });
