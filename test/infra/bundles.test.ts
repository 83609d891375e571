import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CRM_DATE, CRM_ID } from '../helpers/oracle.ts';
import { seedShapeProblems } from '../helpers/seed.ts';
import type { CfnTemplate, Templates } from './bundle-harness/cloudformation.ts';
import {
  type ApiRoute,
  apiGatewayEvent,
  apiRoutesOf,
  eventSourceMappingsOf,
  type HttpRequest,
  scheduledEvent,
  scheduleRulesOf,
  sqsEvent,
  sqsEventSourceOf,
} from './bundle-harness/events.ts';
import {
  type GrantFinding,
  missingGrants,
  type Permission,
  permissionsFor,
  roleStatements,
} from './bundle-harness/grants.ts';
import { invoke } from './bundle-harness/invoke.ts';
import { type LocalDeployment, PLACEMENT, startLocalDeployment } from './bundle-harness/local-deployment.ts';
import { type DeployedFunction, type SynthesizedStage, synthesizeStage } from './bundle-harness/synth.ts';

/**
 * The deployed artifacts themselves: the stage is synthesized with bundling, and each function's asset in
 * cdk.out is imported and invoked as Lambda would (the template's handler, runtime, environment, timeout and
 * memory; real API Gateway, EventBridge and SQS events) against a local deployment of the templates' tables,
 * queues and secret. Every DynamoDB, SQS and Secrets Manager call the bundles send is recorded and checked
 * against their roles' policies in the template.
 */

const DEMO_TOKEN = 'A7AD3752AC7B48099A80E62C8F0BE565';
const SEED_BODY =
  '{"token":"A7AD3752AC7B48099A80E62C8F0BE565","subscription_identifier":{"number":"S60507"},"smartcard_identifier":{"serial_number":"smrt20000054"}}';

/** The longest function timeout (60 s) plus the time to start its process. */
const INVOCATION_TEST_TIMEOUT_MS = 90_000;

let stage: SynthesizedStage;
let local: LocalDeployment;
let api: DeployedFunction;
let processingRun: DeployedFunction;
let worker: DeployedFunction;
let routes: ApiRoute[];

const only = (functions: readonly DeployedFunction[], trigger: string): DeployedFunction => {
  if (functions.length !== 1)
    throw new Error(`Expected one function triggered by ${trigger}, found ${functions.length}`);
  return functions[0] as DeployedFunction;
};

beforeAll(async () => {
  // A configured site, so that the stage deploys with its processing on; its headend is the simulator.
  stage = synthesizeStage('dev', { headend: { protocol: 'generic', url: 'https://headend.bundle-test.invalid' } });
  const { templates, functions } = stage;
  api = only(
    functions.filter((fn) => apiRoutesOf(templates, fn).length > 0),
    'the REST API',
  );
  processingRun = only(
    functions.filter((fn) => scheduleRulesOf(templates, fn).length > 0),
    'a schedule',
  );
  worker = only(
    functions.filter((fn) => eventSourceMappingsOf(templates, fn).length > 0),
    'an SQS event source',
  );
  routes = apiRoutesOf(templates, api);
  local = await startLocalDeployment(stage);
}, 120_000);

afterAll(async () => {
  await local?.stop();
  stage?.remove();
});

const run = async (fn: DeployedFunction, event: unknown) =>
  (await invoke(fn, local.environmentOf(fn), local.arnOf(fn), event)).result;

// biome-ignore lint/suspicious/noExplicitAny: the API's JSON answers are inspected freely
type ApiAnswer = { statusCode: number; headers: Record<string, string>; body: any };

const callApi = async (request: HttpRequest): Promise<ApiAnswer> => {
  const result = (await run(api, apiGatewayEvent(routes, request, PLACEMENT))) as ApiAnswer & { body: string };
  return { ...result, body: JSON.parse(result.body) };
};

const JSON_HEADERS = { 'Content-Type': 'application/json' };
const clearPin = (body: string) =>
  callApi({ method: 'POST', path: '/nagravision/provisioning_requests/clear_pin', headers: JSON_HEADERS, body });
const show = (identifier: string) =>
  callApi({
    method: 'GET',
    path: '/provisioning/provisioning_requests/show',
    query: { token: DEMO_TOKEN, provisioning_request_identifier: identifier },
  });

describe('the synthesized stage', () => {
  it('has a bundle for each function, on the Node.js major this test runs on, and no function without a trigger', () => {
    expect(stage.functions.map((fn) => fn.logicalId).sort()).toEqual(
      [api, processingRun, worker].map((fn) => fn.logicalId).sort(),
    );
    for (const fn of stage.functions) expect(fn.runtime).toBe(`nodejs${process.versions.node.split('.')[0]}.x`);
  });
});

describe('the cdk.out bundles, invoked as Lambda invokes them', () => {
  let created: Record<string, unknown>;
  let queued: Awaited<ReturnType<typeof receiveBatch>>;

  const receiveBatch = async () => {
    const source = sqsEventSourceOf(local.templates, worker, local.lookup, PLACEMENT);
    const queueUrl = local.queueUrlOf(source.queueArn);
    const { Messages = [] } = await local.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: source.batchSize,
        WaitTimeSeconds: 1,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    return { source, queueUrl, messages: Messages };
  };

  it('login answers 200 with a token, and release answers 200 for it', {
    timeout: INVOCATION_TEST_TIMEOUT_MS,
  }, async () => {
    const answer = await callApi({
      method: 'POST',
      path: '/authentication/token',
      headers: JSON_HEADERS,
      body: JSON.stringify({ username: 'MPAdministrator', password: '1234', organisation: 'CRMDEMO' }),
    });
    expect(answer.statusCode).toBe(200);
    expect(answer.body.status).toEqual({ code: 'OK', message: '', description: '' });
    expect(answer.body.data.token).toMatch(/^[0-9A-F]{32}$/);
    const released = await callApi({
      method: 'POST',
      path: '/authentication/token/release',
      headers: JSON_HEADERS,
      body: JSON.stringify({ token: answer.body.data.token }),
    });
    expect(released.statusCode).toBe(200);
  });

  it('the seed create answers 200, PENDING, with CRM.COM’s fields', {
    timeout: INVOCATION_TEST_TIMEOUT_MS,
  }, async () => {
    const answer = await clearPin(SEED_BODY);
    expect(answer.statusCode).toBe(200);
    expect(answer.headers['Content-Type'] ?? answer.headers['content-type']).toMatch(/^application\/json/);
    expect(answer.body.status).toEqual({ code: 'OK', message: '', description: '' });
    created = answer.body.data;
    // The seed's shape, fixed values, unit and user (as the local stack's tests check them) and its defaults.
    expect(seedShapeProblems(created)).toEqual([]);
    expect(created).toMatchObject({ priority: 'REGULAR', process_immediately: 0 });
    const parameters = created.parameters_set as Record<string, string>[];
    expect(parameters).toHaveLength(4);
    expect(parameters.filter((p) => 'smartcard_ca_id' in p)).toEqual([
      { smartcard_ca_id: 'smrt200000', id: expect.stringMatching(CRM_ID) },
    ]);
  });

  it('show answers 200 with the created request, by id and by number', {
    timeout: INVOCATION_TEST_TIMEOUT_MS,
  }, async () => {
    for (const identifier of [`id=${created.id}`, `number=${created.number}`]) {
      const answer = await show(identifier);
      expect(answer.statusCode).toBe(200);
      expect(answer.body.data).toEqual(created);
    }
  });

  it('a processing run hands the request on to the work queue', { timeout: INVOCATION_TEST_TIMEOUT_MS }, async () => {
    await run(processingRun, scheduledEvent(local.templates, processingRun, local.lookup, PLACEMENT));
    queued = await receiveBatch();
    expect(queued.messages.map((m) => JSON.parse(String(m.Body)).requestId)).toEqual([created.id]);
  });

  it('a worker batch completes it: no failures, COMPLETED, executed once by the headend', {
    timeout: INVOCATION_TEST_TIMEOUT_MS,
  }, async () => {
    expect(queued.source.reportsBatchItemFailures).toBe(true);
    const result = await run(worker, sqsEvent(queued.messages, queued.source.queueArn, PLACEMENT));
    expect(result).toEqual({ batchItemFailures: [] });
    // What the event source does with a batch that reported no failures.
    await local.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queued.queueUrl,
        Entries: queued.messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
    const answer = await show(`id=${created.id}`);
    expect(answer.statusCode).toBe(200);
    expect(answer.body.data).toMatchObject({
      id: created.id,
      life_cycle_state: 'COMPLETED',
      reference_number: expect.any(String),
      executed_date: expect.stringMatching(CRM_DATE),
    });
    expect(local.headend.executions(String(created.id))).toBe(1);
    expect(local.headend.totalExecutions()).toBe(1);
    // Its event is on the stage's bus (SPEC §3.1), put there by the worker itself.
    expect(local.publishedEvents().filter((e) => e.detail.id === created.id)).toEqual([
      {
        bus: expect.stringMatching(/-events$/),
        source: 'clear-pin.dev',
        detailType: 'Provisioning Request Completed',
        detail: expect.objectContaining({ id: created.id, life_cycle_state: 'COMPLETED', organisation: 'CRMDEMO' }),
      },
    ]);
  });

  it('a process-immediately create is queued by the API; a worker batch against a failing headend hands it back', {
    timeout: INVOCATION_TEST_TIMEOUT_MS,
  }, async () => {
    const answer = await clearPin(JSON.stringify({ ...JSON.parse(SEED_BODY), process_immediately: true }));
    expect(answer.statusCode).toBe(200);
    const batch = await receiveBatch();
    expect(batch.messages.map((m) => JSON.parse(String(m.Body)).requestId)).toEqual([answer.body.data.id]);
    local.headend.setFaults({ failRate: 1 });
    try {
      const result = await run(worker, sqsEvent(batch.messages, batch.source.queueArn, PLACEMENT));
      // Retried later: the message stays on the queue (its visibility delayed by the worker) and is reported.
      expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: batch.messages[0]?.MessageId }] });
    } finally {
      local.headend.setFaults({});
    }
    expect((await show(`id=${answer.body.data.id}`)).body.data.life_cycle_state).toBe('PENDING');
  });
});

describe('the roles in the template', () => {
  const statementsOf = (templates: Templates, fn: DeployedFunction) =>
    roleStatements(templates, fn.stack, fn.logicalId, local.lookup, PLACEMENT);
  const findings = (templates: Templates, fn: DeployedFunction): GrantFinding[] =>
    missingGrants(local.callsOf(fn), statementsOf(templates, fn), local.arns);

  /** The permissions the function's recorded calls needed, each once. */
  const neededBy = (fn: DeployedFunction): Permission[] => {
    const all = local.callsOf(fn).flatMap((call) => {
      const needed = permissionsFor(call, local.arns);
      return 'problem' in needed ? [] : needed;
    });
    return [...new Map(all.map((p) => [`${p.action} ${p.resource}`, p])).values()];
  };

  /** A copy of the templates with `action` taken out of every statement of the function's role naming it. */
  const withoutAction = (fn: DeployedFunction, action: string): Templates => {
    const copy = structuredClone(local.templates) as Record<string, CfnTemplate>;
    for (const resource of Object.values(copy[fn.stack]?.Resources ?? {})) {
      if (resource.Type !== 'AWS::IAM::Policy') continue;
      const document = resource.Properties?.PolicyDocument as { Statement: { Action: string | string[] }[] };
      document.Statement = document.Statement.flatMap((statement) => {
        const actions = [statement.Action].flat().filter((a) => a !== action);
        return actions.length === 0 ? [] : [{ ...statement, Action: actions }];
      });
    }
    return copy;
  };

  it('each function sent calls, all signed with its own role’s credentials', () => {
    for (const fn of [api, processingRun, worker]) expect(local.callsOf(fn).length).toBeGreaterThan(0);
    expect(local.unattributedCalls()).toEqual([]);
  });

  it.each([
    ['api', () => api],
    ['processing run', () => processingRun],
    ['worker', () => worker],
  ])('the %s role allows every call its bundle sent, action and resource', (_, fn) => {
    expect(local.callsOf(fn()).length).toBeGreaterThan(0);
    expect(findings(local.templates, fn())).toEqual([]);
  });

  it.each([
    ['api', () => api],
    ['processing run', () => processingRun],
    ['worker', () => worker],
  ])('the check reports each call of the %s once its grant is removed from the template', (_, fn) => {
    const needed = neededBy(fn());
    expect(needed.length).toBeGreaterThan(0);
    for (const permission of needed) {
      const missing = findings(withoutAction(fn(), permission.action), fn()).map((finding) => finding.missing);
      expect(missing).toContainEqual(permission);
    }
  });
});
