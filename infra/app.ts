import { App } from 'aws-cdk-lib';
import { addStage, enableNag } from './service.ts';
import { stageConfig } from './stages.ts';

/**
 * The CDK app: `npx cdk synth|deploy -c stage=<name>` (dev, staging, prod, or an ad-hoc name such as pr-42).
 * cdk-nag runs on every synth; `-c nag=false` skips it for a quick look, never for a deploy.
 */
const app = new App();
const context = (key: string): unknown => app.node.tryGetContext(key);
const stage = stageConfig(String(context('stage') ?? 'dev'));
addStage(app, stage, { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION });
if (String(context('nag') ?? 'true') !== 'false') enableNag(app);
app.synth();
