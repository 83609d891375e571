import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Message } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent, ScheduledEvent, SQSEvent, SQSRecord } from 'aws-lambda';
import {
  type Lookup,
  type Placement,
  refersTo,
  resolveValue,
  resourceOf,
  resourcesOfType,
  type Templates,
} from './cloudformation.ts';
import type { DeployedFunction } from './synth.ts';

/**
 * The events each trigger of the templates delivers to its function, built from the trigger's own resources:
 * the REST API's methods (path, stage), the schedule rule, the SQS event source mapping.
 */

/** An API Gateway method proxied to a function. */
export type ApiRoute = {
  readonly method: string;
  readonly resourcePath: string;
  readonly stage: string;
  readonly apiLogicalId: string;
  readonly resourceLogicalId: string;
};

type Properties = Record<string, unknown>;

const shortId = (seed: string, length: number) =>
  createHash('sha256').update(seed).digest('hex').replace(/\d/g, '').padEnd(length, 'x').slice(0, length);

/** The path of an AWS::ApiGateway::Resource (or of the API's root, which `ResourceId` names by GetAtt). */
const resourcePath = (templates: Templates, stack: string, resourceId: unknown): string => {
  const ref = (resourceId as { Ref?: string }).Ref;
  if (ref === undefined) return '';
  const properties = resourceOf(templates, stack, ref).Properties ?? {};
  return `${resourcePath(templates, stack, properties.ParentId)}/${String(properties.PathPart)}`;
};

/** The REST API methods whose Lambda proxy integration invokes the function. */
export const apiRoutesOf = (templates: Templates, fn: DeployedFunction): ApiRoute[] =>
  resourcesOfType(templates, 'AWS::ApiGateway::Method')
    .filter(({ stack, resource }) => {
      const integration = resource.Properties?.Integration as Properties | undefined;
      return stack === fn.stack && integration?.Type === 'AWS_PROXY' && refersTo(integration.Uri, fn.logicalId);
    })
    .map(({ stack, resource }) => {
      const properties = resource.Properties ?? {};
      const apiLogicalId = (properties.RestApiId as { Ref: string }).Ref;
      const stages = resourcesOfType(templates, 'AWS::ApiGateway::Stage').filter(
        (s) => s.stack === stack && refersTo(s.resource.Properties?.RestApiId, apiLogicalId),
      );
      if (stages.length !== 1) throw new Error(`Expected one stage of ${apiLogicalId}, found ${stages.length}`);
      return {
        method: String(properties.HttpMethod),
        resourcePath: resourcePath(templates, stack, properties.ResourceId) || '/',
        stage: String(stages[0]?.resource.Properties?.StageName),
        apiLogicalId,
        resourceLogicalId: (properties.ResourceId as { Ref?: string }).Ref ?? apiLogicalId,
      };
    });

export type HttpRequest = {
  readonly method: string;
  readonly path: string;
  readonly query?: Readonly<Record<string, string>>;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
};

/** `02/Dec/2026:16:40:00 +0000`, API Gateway's `requestTime`. */
const requestTime = (at: Date) => {
  const [, day, month, year, time] = /^\w+, (\d+) (\w+) (\d+) ([\d:]+)/.exec(at.toUTCString()) ?? [];
  return `${day}/${month}/${year}:${time} +0000`;
};

/**
 * The REST API (v1) Lambda proxy event of a request to one of the function's routes, as a regional endpoint
 * delivers it. A request to a path and method the API does not route to the function throws: the API would
 * never deliver it.
 */
export const apiGatewayEvent = (
  routes: readonly ApiRoute[],
  request: HttpRequest,
  placement: Placement,
): APIGatewayProxyEvent => {
  const route = routes.find((r) => r.method === request.method && r.resourcePath === request.path);
  if (!route) throw new Error(`The API routes no ${request.method} ${request.path} to this function`);
  const apiId = shortId(route.apiLogicalId, 10);
  const host = `${apiId}.execute-api.${placement.region}.amazonaws.com`;
  const sourceIp = '203.0.113.10';
  const userAgent = 'crm-integration/1.0';
  const headers: Record<string, string> = {
    Accept: 'application/json',
    Host: host,
    'User-Agent': userAgent,
    'X-Amzn-Trace-Id': `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`,
    'X-Forwarded-For': sourceIp,
    'X-Forwarded-Port': '443',
    'X-Forwarded-Proto': 'https',
    ...request.headers,
  };
  const query = request.query && Object.keys(request.query).length > 0 ? { ...request.query } : null;
  const now = new Date();
  const nullIdentity = {
    accessKey: null,
    accountId: null,
    apiKey: null,
    apiKeyId: null,
    caller: null,
    clientCert: null,
    cognitoAuthenticationProvider: null,
    cognitoAuthenticationType: null,
    cognitoIdentityId: null,
    cognitoIdentityPoolId: null,
    principalOrgId: null,
    user: null,
    userArn: null,
  };
  return {
    resource: route.resourcePath,
    path: request.path,
    httpMethod: request.method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    queryStringParameters: query,
    multiValueQueryStringParameters: query && Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [v]])),
    pathParameters: null,
    stageVariables: null,
    body: request.body ?? null,
    isBase64Encoded: false,
    requestContext: {
      accountId: placement.account,
      apiId,
      authorizer: null,
      domainName: host,
      domainPrefix: apiId,
      extendedRequestId: randomBytes(8).toString('base64url'),
      httpMethod: request.method,
      identity: { ...nullIdentity, sourceIp, userAgent },
      path: `/${route.stage}${request.path}`,
      protocol: 'HTTP/1.1',
      requestId: randomUUID(),
      requestTime: requestTime(now),
      requestTimeEpoch: now.getTime(),
      resourceId: shortId(route.resourceLogicalId, 6),
      resourcePath: route.resourcePath,
      stage: route.stage,
    },
  };
};

/** The EventBridge rules with the function as a target. */
export const scheduleRulesOf = (templates: Templates, fn: DeployedFunction) =>
  resourcesOfType(templates, 'AWS::Events::Rule').filter(
    ({ stack, resource }) =>
      stack === fn.stack &&
      ((resource.Properties?.Targets ?? []) as Properties[]).some((target) => refersTo(target.Arn, fn.logicalId)),
  );

/**
 * What a schedule rule delivers: its target's constant `Input` when it has one, otherwise EventBridge's
 * `Scheduled Event` naming the rule.
 */
export const scheduledEvent = (
  templates: Templates,
  fn: DeployedFunction,
  lookup: Lookup,
  placement: Placement,
): ScheduledEvent => {
  const rules = scheduleRulesOf(templates, fn);
  const rule = rules[0];
  if (rules.length !== 1 || !rule)
    throw new Error(`Expected one rule targeting ${fn.logicalId}, found ${rules.length}`);
  const target = ((rule.resource.Properties?.Targets ?? []) as Properties[]).find((t) => refersTo(t.Arn, fn.logicalId));
  if (typeof target?.Input === 'string') return JSON.parse(target.Input) as ScheduledEvent;
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: placement.account,
    time: `${new Date().toISOString().slice(0, 19)}Z`,
    region: placement.region,
    resources: [String(lookup({ stack: rule.stack, logicalId: rule.logicalId, attribute: 'Arn' }))],
    detail: {},
  };
};

/** The event source mappings that invoke the function. */
export const eventSourceMappingsOf = (templates: Templates, fn: DeployedFunction) =>
  resourcesOfType(templates, 'AWS::Lambda::EventSourceMapping').filter(
    ({ stack, resource }) => stack === fn.stack && refersTo(resource.Properties?.FunctionName, fn.logicalId),
  );

/** The function's SQS event source: the queue's ARN and the batch size the mapping reads with. */
export const sqsEventSourceOf = (templates: Templates, fn: DeployedFunction, lookup: Lookup, placement: Placement) => {
  const mappings = eventSourceMappingsOf(templates, fn);
  const mapping = mappings[0];
  if (mappings.length !== 1 || !mapping) throw new Error(`Expected one event source of ${fn.logicalId}`);
  const properties = mapping.resource.Properties ?? {};
  return {
    queueArn: String(resolveValue(templates, mapping.stack, properties.EventSourceArn, lookup, placement)),
    // Lambda's default for SQS.
    batchSize: Number(properties.BatchSize ?? 10),
    reportsBatchItemFailures: ((properties.FunctionResponseTypes ?? []) as string[]).includes(
      'ReportBatchItemFailures',
    ),
  };
};

/** A received message as the SQS event source hands it to the function. */
const sqsRecord = (message: Message, queueArn: string, region: string): SQSRecord => {
  const system = message.Attributes ?? {};
  const messageAttributes = Object.entries(message.MessageAttributes ?? {});
  return {
    messageId: String(message.MessageId),
    receiptHandle: String(message.ReceiptHandle),
    body: String(message.Body),
    attributes: system as unknown as SQSRecord['attributes'],
    messageAttributes: Object.fromEntries(
      messageAttributes.map(([name, value]) => [
        name,
        {
          stringValue: value.StringValue,
          ...(value.BinaryValue && { binaryValue: Buffer.from(value.BinaryValue).toString('base64') }),
          stringListValues: value.StringListValues ?? [],
          binaryListValues: (value.BinaryListValues ?? []).map((v) => Buffer.from(v).toString('base64')),
          dataType: String(value.DataType),
        },
      ]),
    ),
    md5OfBody: String(message.MD5OfBody),
    ...(message.MD5OfMessageAttributes && { md5OfMessageAttributes: message.MD5OfMessageAttributes }),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
};

export const sqsEvent = (messages: readonly Message[], queueArn: string, placement: Placement): SQSEvent => ({
  Records: messages.map((message) => sqsRecord(message, queueArn, placement.region)),
});
