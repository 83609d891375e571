import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DeadLetterQueue } from './dead-letter-queue.ts';

export type WorkQueueProps = {
  readonly queueName: string;
  /** Timeout of the Lambda function that consumes the queue; the visibility timeout is derived from it. */
  readonly consumerTimeout: Duration;
  readonly removalPolicy: RemovalPolicy;
};

/**
 * A queue consumed by a Lambda event source, with its dead-letter queue.
 * - Visibility timeout 6 × the consumer's timeout, as AWS advises for Lambda event sources: a batch whose
 *   invocation is retried after a throttle must not reappear while it is still being worked on.
 * - maxReceiveCount 5, so that throttled or briefly failing deliveries do not dead-letter healthy messages.
 * - 4 days of retention here, 14 in the DLQ (which must outlive the source, see DeadLetterQueue).
 */
export class WorkQueue extends Construct {
  static readonly MAX_RECEIVE_COUNT = 5;
  static readonly RETENTION = Duration.days(4);

  readonly queue: Queue;
  readonly deadLetterQueue: DeadLetterQueue;

  constructor(scope: Construct, id: string, props: WorkQueueProps) {
    super(scope, id);
    this.deadLetterQueue = new DeadLetterQueue(this, 'DeadLetterQueue', {
      queueName: `${props.queueName}-dlq`,
      removalPolicy: props.removalPolicy,
    });
    this.queue = new Queue(this, 'Queue', {
      queueName: props.queueName,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(6 * props.consumerTimeout.toSeconds()),
      retentionPeriod: WorkQueue.RETENTION,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: WorkQueue.MAX_RECEIVE_COUNT },
      removalPolicy: props.removalPolicy,
    });
  }
}
