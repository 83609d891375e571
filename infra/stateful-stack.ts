import { CfnOutput, Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { ServiceTable } from './constructs/service-table.ts';
import { WorkQueue } from './constructs/work-queue.ts';
import { eventSource, type StageConfig } from './stages.ts';
import { TABLE_INDEXES } from './table-schema.ts';

export type StatefulStackProps = StackProps & { readonly stage: StageConfig };

/**
 * What outlives a deployment of the code: the tables (DynamoDB is the source of truth), the work queue and
 * its DLQ, and the headend credential. In prod all of it is retained when the stack is deleted.
 */
export class StatefulStack extends Stack {
  readonly table: ServiceTable;
  readonly workQueue: WorkQueue;
  readonly headendSecret: Secret;
  readonly eventBus: EventBus;

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, props);
    const { stage } = props;
    const lifecycle = { removalPolicy: stage.removalPolicy, deletionProtection: stage.deletionProtection };

    // Single-table design (functions/adapters/dynamo/keys.ts): every access is by exact `pk`, except the two
    // sparse, keys-only indexes.
    this.table = new ServiceTable(this, 'MainTable', {
      tableName: `${stage.resourcePrefix}-main`,
      partitionKey: 'pk',
      timeToLiveAttribute: 'ttl',
      indexes: TABLE_INDEXES,
      ...lifecycle,
    });

    this.workQueue = new WorkQueue(this, 'WorkQueue', {
      queueName: `${stage.resourcePrefix}-work`,
      consumerTimeout: Duration.seconds(stage.functions.worker.timeoutSeconds),
      removalPolicy: stage.removalPolicy,
    });

    // No fixed name: a deleted secret keeps its name for its recovery window, which would block re-creating
    // an ad-hoc stage of the same name for a week. Operators find it through the HeadendSecretArn output.
    // The placeholder has the protocol's shape, so that until the real value is put the headend refuses it (401,
    // the headend-unauthorized alarm) instead of the worker failing to read it.
    const cag = stage.headend.site?.protocol === 'nagra-cag';
    this.headendSecret = new Secret(this, 'HeadendSecret', {
      description: `${cag ? 'CAG operator account, {"username","password"},' : 'Bearer credential'} of the CA headend for stage ${stage.name}. The generated value is a placeholder: put the real one (docs/deploy.md).`,
      generateSecretString: cag
        ? {
            secretStringTemplate: JSON.stringify({ username: 'placeholder' }),
            generateStringKey: 'password',
            passwordLength: 48,
            excludePunctuation: true,
          }
        : { passwordLength: 48, excludePunctuation: true },
      removalPolicy: stage.removalPolicy,
    });
    Validations.of(this.headendSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The credential is issued by the headend operator, not by us: it cannot be rotated by a Lambda here. It is replaced with put-secret-value when the headend issues a new one, and the worker re-reads it within 5 minutes (no deploy needed).',
    });

    // The stage's events (SPEC §3.1) live here with the data: integrators' own rules on the bus outlive a redeploy of
    // the code. The archive lets an operator replay what a consumer missed.
    this.eventBus = new EventBus(this, 'EventBus', { eventBusName: `${stage.resourcePrefix}-events` });
    this.eventBus.applyRemovalPolicy(stage.removalPolicy);
    this.eventBus
      .archive('EventArchive', {
        description: `Every event of stage ${stage.name}, for replays`,
        eventPattern: { source: [eventSource(stage)] },
        retention: Duration.days(stage.eventArchiveDays),
      })
      .applyRemovalPolicy(stage.removalPolicy);

    new CfnOutput(this, 'TableName', { value: this.table.tableName, description: 'Main DynamoDB table' });
    new CfnOutput(this, 'WorkQueueUrl', { value: this.workQueue.queue.queueUrl, description: 'SQS work queue' });
    new CfnOutput(this, 'DeadLetterQueueUrl', {
      value: this.workQueue.deadLetterQueue.queueUrl,
      description: 'Messages the worker failed 5 times',
    });
    // The redrive (`aws sqs start-message-move-task --source-arn`) takes the ARN, not the URL.
    new CfnOutput(this, 'DeadLetterQueueArn', {
      value: this.workQueue.deadLetterQueue.queueArn,
      description: 'ARN of the work queue DLQ, for the redrive',
    });
    new CfnOutput(this, 'EventBusName', {
      value: this.eventBus.eventBusName,
      description: `Events of final states, source ${eventSource(stage)}`,
    });
    new CfnOutput(this, 'HeadendSecretArn', {
      value: this.headendSecret.secretArn,
      description: `Secret holding the headend credential (${cag ? 'CAG operator account JSON' : 'bearer value'})`,
    });
  }
}
