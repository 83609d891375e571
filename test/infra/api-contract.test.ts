import { readFileSync } from 'node:fs';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { ERROR_STATUS } from '../../functions/domain/errors.ts';
import { CRM_FIELDS, type CrmProvisioningRequest } from '../../functions/domain/provisioning-request.ts';
import { openApiDocument, openApiJson } from '../../infra/contract/openapi.ts';
import { provisioningRequestSchema } from '../../infra/contract/response-schemas.ts';
import { ROUTES } from '../../infra/contract/routes.ts';

type Tree = { type?: unknown; properties?: Record<string, Tree> };

/** The JSON type of each property at every depth, as the handler's zod schema defines it. */
const types = (schema: Tree, prefix = ''): Record<string, unknown> =>
  Object.fromEntries(
    Object.entries(schema.properties ?? {}).flatMap(([name, child]) => [
      [`${prefix}${name}`, child.type],
      ...Object.entries(types(child, `${prefix}${name}.`)),
    ]),
  );

const bodyRoutes = ROUTES.filter((r) => r.body !== undefined) as ((typeof ROUTES)[number] & { body: z.ZodType })[];

describe('OpenAPI document', () => {
  const version = (
    JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  ).version;
  const document = openApiDocument(version) as {
    paths: Record<string, Record<string, { responses: Record<string, { description: string }> }>>;
    components: { schemas: Record<string, Tree> };
  };

  it('is up to date in docs/openapi.json (run `npm run openapi` after changing a schema)', () => {
    const stored = readFileSync(new URL('../../docs/openapi.json', import.meta.url), 'utf8');
    expect(stored).toBe(openApiJson(version));
  });

  it('documents every route with each error code of SPEC §2.5 it can answer, under its HTTP status', () => {
    for (const route of ROUTES) {
      const operation = document.paths[route.path]?.[route.method.toLowerCase()];
      expect(operation, `${route.method} ${route.path}`).toBeDefined();
      for (const code of route.errors) {
        expect(operation?.responses[String(ERROR_STATUS[code])]?.description).toContain(code);
      }
    }
  });

  it('gives request bodies the handlers’ property names and types', () => {
    for (const route of bodyRoutes) {
      const documented = document.components.schemas[route.modelName ?? ''] as Tree;
      expect(types(documented)).toEqual(types(z.toJSONSchema(route.body, { io: 'input' }) as Tree));
    }
  });

  it('describes the provisioning request with CRM.COM’s fields, in order, and the handlers’ type', () => {
    expect(Object.keys(provisioningRequestSchema.shape)).toEqual([...CRM_FIELDS]);
    expectTypeOf<z.output<typeof provisioningRequestSchema>>().toExtend<CrmProvisioningRequest>();
    expectTypeOf<CrmProvisioningRequest>().toExtend<z.output<typeof provisioningRequestSchema>>();
  });
});
