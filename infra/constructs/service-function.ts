import { Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Grant, type IGrantable, type IPrincipal, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { FunctionSizing } from '../stages.ts';
import type { ServiceTable } from './service-table.ts';

export type ServiceFunctionProps = {
  readonly functionName: string;
  readonly description: string;
  /** Absolute path of a module that exports `handler`. */
  readonly entry: string;
  readonly sizing: FunctionSizing;
  readonly environment: Readonly<Record<string, string>>;
  readonly logRetention: RetentionDays;
  readonly removalPolicy: RemovalPolicy;
};

/** Access to one table: actions on its items, and per index the actions allowed on that index alone. */
export type TableAccess = {
  readonly actions: readonly string[];
  readonly indexes?: Readonly<Record<string, readonly string[]>>;
};

/**
 * A Lambda function as this service runs them: Node 24 on ARM64, an ESM bundle (minified, AWS SDK included
 * so cold starts do not read the runtime's copy from disk, source maps on), X-Ray, its own log group with a
 * retention, and a role of its own holding only what the `bind*` helpers grant: no managed policy, the
 * log permissions scoped to its own log group.
 */
export class ServiceFunction extends Construct implements IGrantable {
  readonly function: NodejsFunction;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: ServiceFunctionProps) {
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
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node24',
        mainFields: ['module', 'main'],
        // Some bundled dependencies are CommonJS and call require(); an ESM bundle has none without this.
        banner: "import { createRequire } from 'module';const require = createRequire(import.meta.url);",
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        externalModules: [],
      },
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Only X-Ray tracing (xray:PutTraceSegments, xray:PutTelemetryRecords) is granted on "*": those actions support no resource-level permissions. Every other statement names its table, index, queue, secret or log group.',
    });
  }

  get grantPrincipal(): IPrincipal {
    return this.function.grantPrincipal;
  }

  /** Sets `envVar` to the table's name and grants exactly the listed actions. */
  bindTable(envVar: string, table: ServiceTable, access: TableAccess): this {
    this.function.addEnvironment(envVar, table.tableName);
    table.grant(this, ...access.actions);
    for (const [index, actions] of Object.entries(access.indexes ?? {})) table.grantIndex(this, index, ...actions);
    return this;
  }

  /** Sets `envVar` to the queue's URL and grants exactly the listed actions on it. */
  bindQueue(envVar: string, queue: IQueue, ...actions: string[]): this {
    this.function.addEnvironment(envVar, queue.queueUrl);
    Grant.addToPrincipal({ grantee: this, actions, resourceArns: [queue.queueArn] });
    return this;
  }

  /** Sets `envVar` to the secret's ARN and lets the function read its value (and nothing else). */
  bindSecret(envVar: string, secret: ISecret): this {
    this.function.addEnvironment(envVar, secret.secretArn);
    Grant.addToPrincipal({
      grantee: this,
      actions: ['secretsmanager:GetSecretValue'],
      resourceArns: [secret.secretArn],
    });
    return this;
  }
}
