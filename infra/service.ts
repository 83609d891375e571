import { Annotations, type App, type Environment, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { missingSiteSettings, type StageConfig } from './stages.ts';
import { StatefulStack } from './stateful-stack.ts';
import { StatelessStack } from './stateless-stack.ts';

/** Adds one stage of the service to `app`: its stateful and stateless stacks, named after the stage. */
export const addStage = (app: App, stage: StageConfig, env?: Environment) => {
  const stateful = new StatefulStack(app, `${stage.resourcePrefix}-stateful`, {
    env,
    stage,
    description: `clear-pin ${stage.name}: tables, work queue, headend secret`,
    terminationProtection: stage.deletionProtection,
  });
  const stateless = new StatelessStack(app, `${stage.resourcePrefix}-stateless`, {
    env,
    stage,
    stateful,
    description: `clear-pin ${stage.name}: functions, API, schedule, monitoring`,
  });
  for (const missing of missingSiteSettings(stage)) {
    Annotations.of(stateless).addWarning(`Stage ${stage.name}, site configuration ${missing} (docs/deploy.md).`);
  }
  for (const stack of [stateful, stateless]) {
    Tags.of(stack).add('service', 'clear-pin');
    Tags.of(stack).add('stage', stage.name);
  }
  return { stateful, stateless };
};

/** Makes synthesis fail on any unacknowledged AwsSolutions or Serverless finding. */
export const enableNag = (app: App) => {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
};
