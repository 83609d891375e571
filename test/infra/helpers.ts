import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { addStage } from '../../infra/service.ts';
import type { SiteConfig } from '../../infra/site-config.ts';
import { type StageConfig, stageConfig } from '../../infra/stages.ts';

/** The feature flags and settings of cdk.json, so that tests synthesise what `cdk synth` does. */
const cdkContext = (
  JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
    context: Record<string, unknown>;
  }
).context;

/**
 * An app as `cdk synth` builds it, but with bundling off (no esbuild run) and without CDK's built-in
 * CloudFormation validation: its engine takes seconds to start, and unconfigured it only warns.
 */
export const testApp = () =>
  new App({
    context: { ...cdkContext, 'aws:cdk:bundling-stacks': [] },
    builtinCloudFormationValidation: false,
  });

/** A site configuration that gives a stage everything it can run with (SPEC §6). */
export const TEST_SITE: SiteConfig = {
  headend: { protocol: 'generic', url: 'https://headend.example.net' },
  alarms: { email: 'ops@example.net' },
};

export const CAG_HEADEND = {
  protocol: 'nagra-cag',
  baseUrl: 'https://cag.example.net',
  casInstanceName: 'cas-1',
  tenantId: 'tenant-1',
  operator: 'crm',
  tokenUrl: 'https://sso.example.net/realms/opentv/protocol/openid-connect/token',
  clientId: 'clear-pin',
  okCodes: ['0'],
  transientCodes: ['10035'],
} satisfies SiteConfig['headend'];

export const TEST_NETWORK: NonNullable<SiteConfig['network']> = {
  vpcId: 'vpc-0123456789abcdef0',
  subnets: [
    { id: 'subnet-0123456789abcdef1', availabilityZone: 'eu-west-1a' },
    { id: 'subnet-0123456789abcdef2', availabilityZone: 'eu-west-1b' },
  ],
};

export const synthStage = (stage: StageConfig | string, site: SiteConfig = TEST_SITE) => {
  const config = typeof stage === 'string' ? stageConfig(stage, site) : stage;
  const stacks = addStage(testApp(), config);
  return {
    config,
    stacks,
    stateful: Template.fromStack(stacks.stateful),
    stateless: Template.fromStack(stacks.stateless),
  };
};

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

/** Every statement of the identity policies attached to the role whose logical id starts with `rolePrefix`. */
export const statementsOf = (template: Template, rolePrefix: string): Statement[] =>
  Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) => (policy.Properties.Roles as { Ref: string }[]).some((role) => role.Ref.startsWith(rolePrefix)))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);

export const actionsOf = (statement: Statement): string[] =>
  Array.isArray(statement.Action) ? statement.Action : [statement.Action];

/** The single resource of a CloudFormation resource type in a template. */
export const only = (template: Template, type: string, props?: object): Record<string, unknown> => {
  const found = Object.values(template.findResources(type, props));
  if (found.length !== 1) throw new Error(`Expected one ${type}, found ${found.length}`);
  return (found[0] as { Properties: Record<string, unknown> }).Properties;
};
