import { Duration, type RemovalPolicy, SecretValue, Validations } from 'aws-cdk-lib';
import { Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { ApiDestination, Authorization, Connection, HttpMethod, type IEventBus, Rule } from 'aws-cdk-lib/aws-events';
import { ApiDestination as ApiDestinationTarget } from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import type { EventEndpoint } from '../site-config.ts';
import { DeadLetterQueue } from './dead-letter-queue.ts';

export type EventDeliveriesProps = {
  readonly bus: IEventBus;
  /** The stage's event source; only its events are delivered. */
  readonly source: string;
  readonly endpoints: readonly EventEndpoint[];
  readonly removalPolicy: RemovalPolicy;
};

/**
 * The site's HTTPS endpoints for the stage's events (SPEC §3.1), through EventBridge API destinations: no
 * home-made webhook sender. Each endpoint has a connection holding its credential (EventBridge keeps it in
 * Secrets Manager; the template only references the site's secret), a rule with retries for a day, and a shared
 * dead-letter queue for what could not be delivered, which the stage alarms on.
 */
export class EventDeliveries extends Construct {
  readonly deadLetterQueue?: DeadLetterQueue;
  /** Per endpoint: failed deliveries of its rule (each one retried, then dead-lettered). */
  readonly failedInvocations: Record<string, Metric> = {};

  constructor(scope: Construct, id: string, props: EventDeliveriesProps) {
    super(scope, id);
    if (props.endpoints.length === 0) return;
    this.deadLetterQueue = new DeadLetterQueue(this, 'Undelivered', { removalPolicy: props.removalPolicy });
    // cdk-nag recognises a queue as a DLQ only from a redrive policy or a function's dead-letter config.
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself a dead-letter queue: of the rules that deliver the stage events to its API destinations.',
    });
    for (const endpoint of props.endpoints) {
      const credential = SecretValue.secretsManager(
        endpoint.auth.secretArn,
        endpoint.auth.jsonField === undefined ? {} : { jsonField: endpoint.auth.jsonField },
      );
      const connection = new Connection(this, `${endpoint.name}Connection`, {
        description: `Credential of the events endpoint ${endpoint.name}`,
        authorization:
          endpoint.auth.type === 'apiKey'
            ? Authorization.apiKey(endpoint.auth.header, credential)
            : Authorization.basic(endpoint.auth.username, credential),
      });
      const destination = new ApiDestination(this, `${endpoint.name}Destination`, {
        description: `Events of the stage, to ${endpoint.name}`,
        connection,
        endpoint: endpoint.url,
        httpMethod: HttpMethod.POST,
        rateLimitPerSecond: endpoint.ratePerSecond,
      });
      const rule = new Rule(this, `${endpoint.name}Rule`, {
        description: `Every final state of a provisioning request, to ${endpoint.name}`,
        eventBus: props.bus,
        eventPattern: { source: [props.source] },
        targets: [
          new ApiDestinationTarget(destination, {
            deadLetterQueue: this.deadLetterQueue,
            retryAttempts: 185,
            maxEventAge: Duration.hours(24),
          }),
        ],
      });
      this.failedInvocations[endpoint.name] = new Metric({
        namespace: 'AWS/Events',
        metricName: 'FailedInvocations',
        dimensionsMap: { EventBusName: props.bus.eventBusName, RuleName: rule.ruleName },
        statistic: 'Sum',
        period: Duration.minutes(5),
      });
    }
  }
}
