import { join } from 'node:path';
import { Annotations, Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import { SecurityGroup, Subnet, Vpc } from 'aws-cdk-lib/aws-ec2';
import { Grant, type IGrantable, type IPrincipal, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { z } from 'zod/mini';
import { type EnvironmentSchema, environmentProblems } from '../../functions/platform/environment.ts';
import type { NetworkSite } from '../site-config.ts';
import type { FunctionSizing } from '../stages.ts';
import type { ServiceTable } from './service-table.ts';

type RequiredKeys<T> = { [K in keyof T]-?: undefined extends T[K] ? never : K }[keyof T];

/**
 * The values CDK gives a function for its environment schema (functions/platform/environment.ts): every variable
 * the schema requires, any it defaults, and nothing else — checked by the compiler here and by the schema at synth.
 */
export type EnvironmentOf<S extends EnvironmentSchema> = { [K in RequiredKeys<z.input<S>>]: string } & {
  [K in Exclude<keyof z.input<S>, RequiredKeys<z.input<S>>>]?: string;
};

export type ServiceFunctionProps<S extends EnvironmentSchema> = {
  readonly functionName: string;
  readonly description: string;
  /** Absolute path of a module that exports `handler`. */
  readonly entry: string;
  readonly sizing: FunctionSizing;
  /** The schema the function parses its environment with, and the values this stage gives it. */
  readonly environment: { readonly schema: S; readonly values: EnvironmentOf<S> };
  readonly logRetention: RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /** Existing subnets to run in (a headend on a private network); outside any VPC when absent. */
  readonly network?: NetworkSite;
};

/**
 * The variables to set: the values, refused at synth when the function's own schema would refuse them (unknown
 * names included), so that a misconfigured stage fails here and not at its first invocation.
 */
export const checkedEnvironment = <S extends EnvironmentSchema>(
  functionName: string,
  schema: S,
  values: EnvironmentOf<S>,
): Record<string, string> => {
  const variables = Object.fromEntries(
    Object.entries(values as Record<string, string | undefined>).filter(
      (entry): entry is [string, string] => entry[1] !== undefined,
    ),
  );
  const problems = environmentProblems(schema, variables);
  if (problems !== undefined) throw new Error(`Environment of ${functionName}: ${problems}`);
  return variables;
};

/**
 * How every function is bundled. The bench (bench/scenarios/bundles.ts) builds its bundles from this same object,
 * so its sizes and import times are the deployed bundles'.
 * - ESM, minified, for Node 24, with the AWS SDK bundled: naming `externalModules` replaces CDK's default of
 *   leaving `@aws-sdk/*` to the runtime's copy, which cold-starts slower (docs/performance.md).
 * - Source maps without the sources' text: `NODE_OPTIONS=--enable-source-maps` maps stack traces to the
 *   TypeScript files.
 * - The SDK's default credential chain replaced by environment credentials, all a Lambda function uses
 *   (functions/platform/env-credentials.ts).
 * - `node:http` loaded with `require`, which an ESM import makes slow to load (functions/platform/node-http.ts).
 * - `@smithy/core/event-streams` left out: the SDK imports it lazily, only for an operation with an event stream,
 *   which DynamoDB, SQS and Secrets Manager have none of. Should a function ever call such an operation, that
 *   import fails at that call, naming the module.
 */
export const SERVICE_BUNDLING: BundlingOptions = {
  format: OutputFormat.ESM,
  target: 'node24',
  mainFields: ['module', 'main'],
  // Some bundled dependencies are CommonJS and call require(); an ESM bundle has none without this.
  banner: "import { createRequire } from 'module';const require = createRequire(import.meta.url);",
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  externalModules: ['@smithy/core/event-streams'],
  esbuildArgs: {
    // The only "legal" comments in the bundles are Powertools' `/* v8 ignore … @preserve */` coverage pragmas, which
    // esbuild would gather at the end of every bundle for Node to parse at each cold start.
    '--legal-comments': 'none',
    // An absolute path, like the entry: esbuild resolves an alias's target from its working directory.
    '--alias': [
      `@aws-sdk/credential-provider-node=${join(import.meta.dirname, '../../functions/platform/env-credentials.ts')}`,
      `node:http=${join(import.meta.dirname, '../../functions/platform/node-http.ts')}`,
    ],
  },
};

/** Access to one table: actions on its items, and per index the actions allowed on that index alone. */
export type TableAccess = {
  readonly actions: readonly string[];
  readonly indexes?: Readonly<Record<string, readonly string[]>>;
};

/**
 * A Lambda function as this service runs them: Node 24 on ARM64, an ESM bundle (minified, AWS SDK included
 * so cold starts do not read the runtime's copy from disk, source maps on), X-Ray, its own log group with a
 * retention, an environment checked against the function's own schema, and a role of its own holding only
 * what the `grant*` helpers grant: no managed policy, the log permissions scoped to its own log group.
 */
export class ServiceFunction<S extends EnvironmentSchema = EnvironmentSchema> extends Construct implements IGrantable {
  readonly function: NodejsFunction;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: ServiceFunctionProps<S>) {
    super(scope, id);
    this.logGroup = new LogGroup(this, 'LogGroup', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    const role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs ${props.functionName}`,
    });
    this.logGroup.grantWrite(role);
    this.function = new NodejsFunction(this, 'Function', {
      functionName: props.functionName,
      description: props.description,
      entry: props.entry,
      handler: 'handler',
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.sizing.memoryMb,
      timeout: Duration.seconds(props.sizing.timeoutSeconds),
      tracing: Tracing.ACTIVE,
      role,
      logGroup: this.logGroup,
      environment: checkedEnvironment(props.functionName, props.environment.schema, props.environment.values),
      ...(props.network && networkOf(this, props.network)),
      bundling: SERVICE_BUNDLING,
    });
    if (props.network) {
      // What AWSLambdaVPCAccessExecutionRole grants, inline: CDK adds that managed policy only to roles it makes.
      role.addToPolicy(new PolicyStatement({ actions: [...VPC_ACCESS_ACTIONS], resources: ['*'] }));
    }
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: props.network
        ? 'Granted on "*" only: X-Ray tracing and the network-interface actions Lambda needs to place the function in the site subnets (as AWSLambdaVPCAccessExecutionRole grants them; Lambda names no interface in advance). Every other statement names its table, index, queue, secret or log group.'
        : 'Only X-Ray tracing (xray:PutTraceSegments, xray:PutTelemetryRecords) is granted on "*": those actions support no resource-level permissions. Every other statement names its table, index, queue, secret or log group.',
    });
  }

  get grantPrincipal(): IPrincipal {
    return this.function.grantPrincipal;
  }

  /** Grants exactly the listed actions on the table's items and on the named indexes. */
  grantTable(table: ServiceTable, access: TableAccess): this {
    table.grant(this, ...access.actions);
    for (const [index, actions] of Object.entries(access.indexes ?? {})) table.grantIndex(this, index, ...actions);
    return this;
  }

  /** Grants exactly the listed actions on the queue. */
  grantQueue(queue: IQueue, ...actions: string[]): this {
    Grant.addToPrincipal({ grantee: this, actions, resourceArns: [queue.queueArn] });
    return this;
  }

  /** Lets the function read the secret's value (and nothing else). */
  grantSecretRead(secret: ISecret): this {
    Grant.addToPrincipal({
      grantee: this,
      actions: ['secretsmanager:GetSecretValue'],
      resourceArns: [secret.secretArn],
    });
    return this;
  }
}

/** The actions of AWSLambdaVPCAccessExecutionRole, beside the log ones the role already has for its log group. */
export const VPC_ACCESS_ACTIONS = [
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
] as const;

/**
 * The function's placement in the site's existing subnets (ids and zones given, so synth stays offline). Lambda
 * manages the network interfaces with the role's EC2 permissions (VPC_ACCESS_ACTIONS).
 */
const networkOf = (scope: Construct, network: NetworkSite) => {
  const vpc = Vpc.fromVpcAttributes(scope, 'Vpc', {
    vpcId: network.vpcId,
    availabilityZones: network.subnets.map((subnet) => subnet.availabilityZone),
  });
  const subnets = network.subnets.map((subnet, i) =>
    Subnet.fromSubnetAttributes(scope, `Subnet${i}`, {
      subnetId: subnet.id,
      availabilityZone: subnet.availabilityZone,
    }),
  );
  // Route tables are the site's business and nothing here reads them.
  for (const subnet of subnets) Annotations.of(subnet).acknowledgeWarning('@aws-cdk/aws-ec2:noSubnetRouteTableId');
  return {
    vpc,
    vpcSubnets: { subnets },
    ...(network.securityGroupIds && {
      securityGroups: network.securityGroupIds.map((id, i) => SecurityGroup.fromSecurityGroupId(scope, `Sg${i}`, id)),
    }),
  };
};
