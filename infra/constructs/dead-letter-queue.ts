import { Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

export type DeadLetterQueueProps = { readonly queueName?: string; readonly removalPolicy: RemovalPolicy };

/**
 * A queue that only receives what something else failed to handle. Kept for SQS's maximum of 14 days:
 * a message keeps its original enqueue time when it is moved here, so a shorter retention than the source
 * queue's would drop it early, and an operator needs time to look before it expires.
 */
export class DeadLetterQueue extends Queue {
  static readonly RETENTION = Duration.days(14);

  constructor(scope: Construct, id: string, props: DeadLetterQueueProps) {
    super(scope, id, {
      queueName: props.queueName,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: DeadLetterQueue.RETENTION,
      removalPolicy: props.removalPolicy,
    });
    Validations.of(this).acknowledge({
      id: 'Serverless-SQSRedrivePolicy',
      reason:
        'This queue is itself a dead-letter queue: nothing consumes it but an operator, so it has nowhere to redrive to.',
    });
  }
}
