import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { type ITopic, Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { StageConfig } from '../stages.ts';

export type ServiceMonitoringProps = {
  readonly stage: StageConfig;
  readonly api: RestApi;
  readonly workQueue: IQueue;
  /** Queues that hold failures nobody retries automatically: each one not empty is an alarm. */
  readonly deadLetterQueues: Readonly<Record<string, IQueue>>;
  /** Failed deliveries to each events endpoint of the site. */
  readonly eventDeliveryFailures: Readonly<Record<string, IMetric>>;
};

const ONE_MINUTE = Duration.minutes(1);
const FIVE_MINUTES = Duration.minutes(5);

/**
 * The stage's alarms (to one SNS topic) and its dashboard. Application metrics are the ones Powertools
 * publishes from the functions, in the stage's namespace with the `service` dimension.
 */
export class ServiceMonitoring extends Construct {
  readonly topic: ITopic;
  readonly alarms: Alarm[] = [];
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: ServiceMonitoringProps) {
    super(scope, id);
    const { stage, api } = props;
    const prefix = stage.resourcePrefix;
    this.topic = alarmTopic(this, stage);
    const metric = (metricName: string, statistic: string, period: Duration = ONE_MINUTE) =>
      new Metric({
        namespace: stage.metricsNamespace,
        metricName,
        dimensionsMap: { service: stage.serviceName },
        statistic,
        period,
      });

    for (const [name, queue] of Object.entries(props.deadLetterQueues)) {
      this.alarm(`${name}NotEmpty`, {
        alarmName: `${prefix}-${name}-not-empty`,
        alarmDescription: `Messages are waiting in ${name}: read them, fix the cause, then redrive (docs/deploy.md).`,
        metric: queue.metricApproximateNumberOfMessagesVisible({ period: ONE_MINUTE, statistic: 'Maximum' }),
        threshold: 0,
        evaluationPeriods: 1,
      });
    }

    // The processing run publishes the age every run, 0 when nothing is due: no data means no run. A stage with
    // no headend has its schedule disabled on purpose (missingSiteSettings says so at synth): no run is no alarm.
    const schedulePeriod = Duration.minutes(stage.scheduleRateMinutes);
    const paused = stage.headend.site === undefined;
    this.alarm('OldestDue', {
      alarmName: `${prefix}-oldest-due-request`,
      alarmDescription: paused
        ? `A due request has waited more than ${stage.alarms.oldestDueMinutes} minutes. Processing is paused on this stage (no headend configured), so silence is expected.`
        : `A due request has waited more than ${stage.alarms.oldestDueMinutes} minutes, or the processing run stopped reporting.`,
      metric: metric('OldestDueAgeSeconds', 'Maximum', schedulePeriod),
      threshold: stage.alarms.oldestDueMinutes * 60,
      evaluationPeriods: 3,
      treatMissingData: paused ? TreatMissingData.NOT_BREACHING : TreatMissingData.BREACHING,
    });

    this.alarm('Api5xx', {
      alarmName: `${prefix}-api-5xx`,
      alarmDescription: 'The API answered 5xx: a bug (INTERNAL_ERROR) or a dependency down (SERVICE_UNAVAILABLE).',
      metric: api.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum' }),
      threshold: 0,
      evaluationPeriods: 1,
    });

    const headendCalls = metric('HeadendCalls', 'Sum', FIVE_MINUTES);
    const headendErrors = metric('HeadendErrors', 'Sum', FIVE_MINUTES);
    const headendErrorRate = new MathExpression({
      label: 'Headend error rate (%)',
      expression: 'IF(calls > 0, 100 * errors / calls, 0)',
      usingMetrics: { calls: headendCalls, errors: headendErrors },
      period: FIVE_MINUTES,
    });
    this.alarm('HeadendErrorRate', {
      alarmName: `${prefix}-headend-error-rate`,
      alarmDescription: `More than ${stage.alarms.headendErrorRatePercent}% of headend calls failed (timeouts, 5xx, 429, refusals of the credential).`,
      metric: headendErrorRate,
      threshold: stage.alarms.headendErrorRatePercent,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
    });

    this.alarm('HeadendUnauthorized', {
      alarmName: `${prefix}-headend-unauthorized`,
      alarmDescription: 'The headend refused the credential (401): put the right value in the headend secret.',
      metric: metric('HeadendUnauthorized', 'Sum'),
      threshold: 0,
      evaluationPeriods: 1,
    });

    // The publishers count events they could not hand to the bus; the outbox keeps them for the next run.
    this.alarm('EventPublishFailures', {
      alarmName: `${prefix}-event-publish-failures`,
      alarmDescription:
        'Events of final states could not be published to the stage bus; they wait in the outbox and the processing run retries them every run.',
      metric: metric('EventPublishFailures', 'Sum', FIVE_MINUTES),
      threshold: 0,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
    });
    for (const [name, failed] of Object.entries(props.eventDeliveryFailures)) {
      this.alarm(`EventDeliveries${name}`, {
        alarmName: `${prefix}-event-deliveries-${name}`,
        alarmDescription: `EventBridge could not deliver events to the endpoint ${name}; it retries for 24 h, then the events go to the event-deliveries dead-letter queue.`,
        metric: failed,
        threshold: 0,
        evaluationPeriods: 1,
      });
    }

    const graph = (title: string, left: IMetric[], width = 8) => new GraphWidget({ title, left, width });
    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: prefix,
      widgets: [
        [new AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24 })],
        [
          graph('API requests', [
            api.metricCount({ period: ONE_MINUTE }),
            api.metricClientError({ period: ONE_MINUTE }),
            api.metricServerError({ period: ONE_MINUTE }),
          ]),
          graph('API latency (ms)', [
            api.metricLatency({ period: ONE_MINUTE, statistic: 'p50' }),
            api.metricLatency({ period: ONE_MINUTE, statistic: 'p99' }),
          ]),
          graph('Provisioning requests', [
            metric('RequestsCreated', 'Sum'),
            metric('RequestsCompleted', 'Sum'),
            metric('RequestsRejected', 'Sum'),
            metric('RequestsCancelled', 'Sum'),
            metric('EventPublishFailures', 'Sum'),
          ]),
        ],
        [
          graph('Oldest due request (s)', [metric('OldestDueAgeSeconds', 'Maximum', schedulePeriod)]),
          graph('Handing on', [metric('DueRequestsDispatched', 'Sum'), metric('QueueSendFailures', 'Sum')]),
          graph('Queues', [
            props.workQueue.metricApproximateNumberOfMessagesVisible({ period: ONE_MINUTE, statistic: 'Maximum' }),
            props.workQueue.metricApproximateAgeOfOldestMessage({ period: ONE_MINUTE, statistic: 'Maximum' }),
            ...Object.values(props.deadLetterQueues).map((q) =>
              q.metricApproximateNumberOfMessagesVisible({ period: ONE_MINUTE, statistic: 'Maximum' }),
            ),
          ]),
        ],
        [
          graph('Headend calls', [
            metric('HeadendCalls', 'Sum'),
            metric('HeadendErrors', 'Sum'),
            metric('HeadendUnauthorized', 'Sum'),
          ]),
          graph('Headend error rate (%)', [headendErrorRate]),
          graph('Headend latency (ms)', [metric('HeadendLatency', 'p50'), metric('HeadendLatency', 'p99')]),
        ],
      ],
    });
  }

  private alarm(
    id: string,
    props: {
      alarmName: string;
      alarmDescription: string;
      metric: IMetric;
      threshold: number;
      evaluationPeriods: number;
      datapointsToAlarm?: number;
      treatMissingData?: TreatMissingData;
    },
  ): void {
    const alarm = new Alarm(this, id, {
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      ...props,
    });
    alarm.addAlarmAction(new SnsAction(this.topic));
    alarm.addOkAction(new SnsAction(this.topic));
    this.alarms.push(alarm);
  }
}

/** The stage's own topic (with the configured email, if any), or the operator's existing topic. */
const alarmTopic = (scope: Construct, stage: StageConfig): ITopic => {
  const destination = stage.alarms.destination;
  if (destination && 'topicArn' in destination) {
    return Topic.fromTopicArn(scope, 'AlarmTopic', destination.topicArn);
  }
  const topic = new Topic(scope, 'AlarmTopic', {
    topicName: `${stage.resourcePrefix}-alarms`,
    displayName: `clear-pin ${stage.name} alarms`,
    enforceSSL: true,
  });
  // enforceSSL gives the topic a policy of its own, which replaces SNS's default one: without this allow, every
  // alarm action of CloudWatch would be refused. Only this account's alarms of this stage may publish.
  const stack = Stack.of(scope);
  topic.addToResourcePolicy(
    new PolicyStatement({
      sid: 'AllowStageAlarms',
      principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['sns:Publish'],
      resources: [topic.topicArn],
      conditions: {
        StringEquals: { 'aws:SourceAccount': stack.account },
        ArnLike: {
          'aws:SourceArn': `arn:${stack.partition}:cloudwatch:${stack.region}:${stack.account}:alarm:${stage.resourcePrefix}-*`,
        },
      },
    }),
  );
  if (destination) {
    const subscription = topic.addSubscription(new EmailSubscription(destination.email));
    Validations.of(subscription).acknowledge({
      id: 'Serverless-SNSRedrivePolicy',
      reason:
        'An email subscription of alarm notifications: a dead-letter queue for undelivered emails would be one more queue nobody reads, and the alarm itself stays visible in CloudWatch and on the dashboard.',
    });
  }
  return topic;
};
