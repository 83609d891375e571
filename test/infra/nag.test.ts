import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { addStage, enableNag } from '../../infra/service.ts';
import { stageConfig } from '../../infra/stages.ts';
import { CAG_HEADEND, TEST_NETWORK, TEST_SITE, testApp } from './helpers.ts';

/**
 * Every shape a site can give a stage: prod on the generic protocol mailing its alarms, an ad-hoc stage on CAG in
 * the site's subnets notifying an existing topic, and a stage with nothing configured yet (processing paused).
 */
const buildApp = (app: App) => {
  addStage(app, stageConfig('prod', TEST_SITE));
  addStage(
    app,
    stageConfig('pr-7', {
      headend: CAG_HEADEND,
      alarms: { topicArn: 'arn:aws:sns:eu-west-1:123456789012:operations' },
      network: TEST_NETWORK,
    }),
  );
  addStage(app, stageConfig('pr-8'));
  return app;
};

const findings = (app: App) =>
  [new AwsSolutionsChecks(), new ServerlessChecks()].flatMap((pack) =>
    pack
      .validateScope(app)
      .violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.constructPath}`)),
  );

describe('cdk-nag (AwsSolutions and Serverless packs)', () => {
  afterEach(() => vi.restoreAllMocks());

  it('finds nothing unacknowledged, and synthesis with the packs enabled succeeds', () => {
    const app = buildApp(testApp());
    expect(findings(app)).toEqual([]);
    enableNag(app);
    expect(() => app.synth()).not.toThrow();
  });

  it('acknowledges only findings that really occur, each with a reason', () => {
    const acknowledged: { path: string; id: string; reason: string }[] = [];
    vi.spyOn(Validations.prototype, 'acknowledge').mockImplementation(function (
      this: Validations,
      ...rules: { id: string; reason: string }[]
    ) {
      const scope = (this as unknown as { scope: IConstruct }).scope;
      acknowledged.push(...rules.map(({ id, reason }) => ({ path: scope.node.path, id, reason })));
    });
    const raw = findings(buildApp(testApp()));
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const { path, id, reason } of acknowledged) {
      expect(reason.length, `${id} at ${path}`).toBeGreaterThan(60);
      const occurs = raw.some((f) => {
        const [rule, at] = f.split(' ') as [string, string];
        return rule === id && (at === path || at.startsWith(`${path}/`));
      });
      expect(occurs, `${id} acknowledged at ${path} but not found there`).toBe(true);
    }
  });
});
