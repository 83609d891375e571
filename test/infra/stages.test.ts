import { RemovalPolicy } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { NAMED_STAGES, stageConfig, validateStage, workerHeadendCaps } from '../../infra/stages.ts';
import { synthStage } from './helpers.ts';

describe('stage configuration', () => {
  it('keeps and protects prod data, and disposes of dev data', () => {
    expect(stageConfig('prod')).toMatchObject({ removalPolicy: RemovalPolicy.RETAIN, deletionProtection: true });
    expect(stageConfig('dev')).toMatchObject({ removalPolicy: RemovalPolicy.DESTROY, deletionProtection: false });
  });

  it('derives an ad-hoc stage from dev, with its own names', () => {
    const adHoc = stageConfig('pr-42');
    const { name, resourcePrefix, serviceName, ...rest } = adHoc;
    const { name: _n, resourcePrefix: _r, serviceName: _s, ...devRest } = stageConfig('dev');
    expect({ name, resourcePrefix, serviceName }).toEqual({
      name: 'pr-42',
      resourcePrefix: 'clear-pin-pr-42',
      serviceName: 'clear-pin-pr-42',
    });
    expect(rest).toEqual(devRest);
  });

  it.each(['', 'PR-42', '42', 'pr_42', 'a-very-long-stage-name-x'])('refuses the stage name "%s"', (name) => {
    expect(() => stageConfig(name)).toThrow(/Invalid stage name/);
  });

  it('gives every named stage a consistent configuration and each worker instance a share ≥ 1', () => {
    for (const config of Object.values(NAMED_STAGES)) {
      expect(() => validateStage(config)).not.toThrow();
      const caps = workerHeadendCaps(config);
      expect(caps.maxConcurrency * config.worker.maxConcurrency).toBeLessThanOrEqual(config.headend.maxConcurrency);
      expect(caps.maxPerSecond * config.worker.maxConcurrency).toBeLessThanOrEqual(config.headend.maxPerSecond);
    }
  });

  it('refuses contradictions at synth time', () => {
    const dev = stageConfig('dev');
    expect(() => validateStage({ ...dev, leaseSeconds: dev.functions.worker.timeoutSeconds })).toThrow(/leaseSeconds/);
    expect(() => validateStage({ ...dev, worker: { ...dev.worker, maxConcurrency: 1 } })).toThrow(/2–1000/);
    expect(() => validateStage({ ...dev, headend: { ...dev.headend, maxPerSecond: 1 } })).toThrow(/headend caps/);
    expect(() => validateStage({ ...dev, headend: { ...dev.headend, timeoutMs: 60_000 } })).toThrow(/timeoutMs/);
    expect(() => validateStage({ ...dev, deletionProtection: true })).toThrow(/RETAIN/);
  });
});

describe('two stages in one account', () => {
  /** Resource types whose name is unique per account and region, and the property that holds it. */
  const ACCOUNT_WIDE_NAMES: Record<string, string> = {
    'AWS::DynamoDB::GlobalTable': 'TableName',
    'AWS::SQS::Queue': 'QueueName',
    'AWS::Lambda::Function': 'FunctionName',
    'AWS::Events::Rule': 'Name',
    'AWS::CloudWatch::Alarm': 'AlarmName',
    'AWS::CloudWatch::Dashboard': 'DashboardName',
    'AWS::SNS::Topic': 'TopicName',
    'AWS::ApiGateway::RestApi': 'Name',
  };
  const physicalNames = (template: Template): string[] =>
    Object.entries(ACCOUNT_WIDE_NAMES).flatMap(([type, property]) =>
      Object.values(template.findResources(type)).flatMap((resource) => resource.Properties[property] ?? []),
    );
  const namesOf = (stage: string) => {
    const { stateful, stateless, stacks } = synthStage(stage);
    return [
      stacks.stateful.stackName,
      stacks.stateless.stackName,
      ...physicalNames(stateful),
      ...physicalNames(stateless),
    ];
  };

  it('share no physical resource name', () => {
    const dev = namesOf('dev');
    const adHoc = namesOf('pr-42');
    expect(dev).toHaveLength(19); // 2 stacks, 2 tables, 2 queues, 3 functions, rule, 6 alarms, dashboard, topic, API
    expect(adHoc).toHaveLength(dev.length);
    for (const name of dev) expect(name).toMatch(/^clear-pin-dev-?/);
    for (const name of adHoc) expect(name).toMatch(/^clear-pin-pr-42-?/);
    expect(dev.filter((name) => adHoc.includes(name))).toEqual([]);
  });
});
