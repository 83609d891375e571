import { App } from 'aws-cdk-lib';
import { addStage, enableNag } from './service.ts';
import { loadSiteConfig, SiteConfigError } from './site-config.ts';
import { StageConfigError, stageConfig } from './stages.ts';

/**
 * The CDK app: `npx cdk synth|deploy -c stage=<name> [-c site=<site.json>]` (dev, staging, prod, or an ad-hoc
 * name such as pr-42; the site file holds the headend, alarm destination and network, docs/deploy.md).
 * cdk-nag runs on every synth; `-c nag=false` skips it for a quick look, never for a deploy.
 */
const app = new App();
const context = (key: string): unknown => app.node.tryGetContext(key);

/** The stage with its site configuration; a wrong one ends synth with just the message, which names each field. */
const configuredStage = () => {
  try {
    return stageConfig(String(context('stage') ?? 'dev'), loadSiteConfig(context('site')));
  } catch (error) {
    if (!(error instanceof SiteConfigError || error instanceof StageConfigError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
};

addStage(app, configuredStage(), { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION });
if (String(context('nag') ?? 'true') !== 'false') enableNag(app);
app.synth();
