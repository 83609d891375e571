import { type RemovalPolicy, Validations } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  EndpointType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  ResponseType,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { z } from 'zod';
import { API_STAGE_NAME, envelopeTemplate, GATEWAY_ERRORS, type Route } from '../contract/routes.ts';

export type CrmRestApiProps = {
  readonly restApiName: string;
  /** The one function behind every route (it routes by method and path itself). */
  readonly handler: IFunction;
  readonly routes: readonly Route[];
  readonly throttling: { readonly rateLimit: number; readonly burstLimit: number };
  readonly logRetention: RetentionDays;
  readonly removalPolicy: RemovalPolicy;
};

/**
 * Access log fields: who called what, and how it went. Never a body, the query string (the show route
 * carries the token there) or a header other than the user agent, so no token or PIN can reach the logs.
 */
export const ACCESS_LOG_FIELDS: Readonly<Record<string, string>> = {
  requestId: '$context.requestId',
  extendedRequestId: '$context.extendedRequestId',
  requestTimeEpoch: '$context.requestTimeEpoch',
  sourceIp: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  httpMethod: '$context.httpMethod',
  resourcePath: '$context.resourcePath',
  protocol: '$context.protocol',
  status: '$context.status',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationStatus: '$context.integrationStatus',
  integrationLatency: '$context.integrationLatency',
  errorType: '$context.error.responseType',
  errorMessage: '$context.error.message',
  xrayTraceId: '$context.xrayTraceId',
};

/**
 * The CRM.COM-compatible REST API (API Gateway v1): every route proxied to one function, which owns the
 * error envelope and every check of SPEC §2.5. The gateway adds throttling, JSON access logs, execution
 * logs at ERROR without data tracing, a structural body check, and answers its own errors in the same
 * envelope. The body limit is the gateway's 10 MB; the function enforces the contract's 16 KiB.
 */
export class CrmRestApi extends Construct {
  readonly api: RestApi;
  readonly accessLogGroup: LogGroup;

  constructor(scope: Construct, id: string, props: CrmRestApiProps) {
    super(scope, id);
    this.accessLogGroup = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.api = new RestApi(this, 'Api', {
      restApiName: props.restApiName,
      description: 'CRM.COM-compatible Nagravision clear-PIN provisioning',
      endpointConfiguration: { types: [EndpointType.REGIONAL] },
      // The role that lets API Gateway write execution logs is one setting per account and region, shared by
      // every stage: set once by the operator (docs/deploy.md), not owned by any stage's stack.
      cloudWatchRole: false,
      deployOptions: {
        stageName: API_STAGE_NAME,
        throttlingRateLimit: props.throttling.rateLimit,
        throttlingBurstLimit: props.throttling.burstLimit,
        loggingLevel: MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        tracingEnabled: true,
        accessLogDestination: new LogGroupLogDestination(this.accessLogGroup),
        accessLogFormat: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
    });

    // cdk-nag (APIG2) wants one validator checking both. No route has a body model or a required parameter, so the
    // gateway refuses nothing: every check is the function's, in SPEC §2.5's order. (A model requiring an object
    // would answer a non-object body over 16 KiB 400 before the function could judge its size, 413.)
    const validator = this.api.addRequestValidator('Validator', {
      requestValidatorName: 'structure',
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    const integration = new LambdaIntegration(props.handler, { proxy: true, allowTestInvoke: false });
    for (const route of props.routes) {
      this.api.root.resourceForPath(route.path).addMethod(route.method, integration, {
        operationName: route.operationId,
        requestValidator: validator,
        ...(route.query && { requestParameters: queryParameters(route.query) }),
      });
    }

    for (const error of GATEWAY_ERRORS) {
      // The same headers as the function's answers: nothing the API says may be cached (SPEC §2).
      const headers = { 'Cache-Control': 'no-store', ...error.headers };
      this.api.addGatewayResponse(error.responseType, {
        type: ResponseType.of(error.responseType),
        ...(error.status !== undefined && { statusCode: String(error.status) }),
        responseHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, `'${v}'`])),
        templates: { 'application/json': envelopeTemplate(error) },
      });
    }

    const contractAuth =
      'CRM.COM clients authenticate with the contract’s own token: POST /authentication/token returns it and every other route takes it in the body or query, checked by the function against a hashed, sliding-expiry session (SPEC §2.1). An API Gateway authorizer would change the contract that existing CRM.COM integrations use.';
    Validations.of(this.api).acknowledge(
      { id: 'AwsSolutions-APIG4', reason: contractAuth },
      { id: 'AwsSolutions-COG4', reason: `No Cognito user pool: ${contractAuth}` },
    );
    Validations.of(this.api.deploymentStage).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason:
        'No WAF web ACL per stage: stage throttling bounds the rate, the function refuses bodies over 16 KiB and anything off-contract, and AWS managed rule groups would answer some valid contract requests themselves (e.g. SizeRestrictions_BODY at 8 KB) outside the CRM.COM envelope. An account-wide web ACL can be attached to the stage without code changes.',
    });
  }
}

/**
 * Declares the query parameters of a route (for the console and exports) without making API Gateway require
 * them: a missing token must reach the function, which answers INVALID_TOKEN, and a missing identifier
 * MISSING_PARAMETER, instead of API Gateway's bare 400.
 */
const queryParameters = (query: Route['query'] & object): Record<string, boolean> => {
  const { properties } = z.toJSONSchema(query, { io: 'input' }) as { properties?: Record<string, unknown> };
  return Object.fromEntries(Object.keys(properties ?? {}).map((name) => [`method.request.querystring.${name}`, false]));
};
