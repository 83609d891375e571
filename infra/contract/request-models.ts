import { type JsonSchema, JsonSchemaType, JsonSchemaVersion } from 'aws-cdk-lib/aws-apigateway';
import { z } from 'zod';

/** The part of a draft-04 JSON Schema (as zod writes it) that the models are built from. */
type DraftSchema = { type?: string | string[]; properties?: Record<string, DraftSchema> };

export const toDraft4 = (schema: z.core.$ZodType): DraftSchema =>
  z.toJSONSchema(schema, { target: 'draft-04', io: 'input' }) as DraftSchema;

const propertyTree = (schema: DraftSchema): Record<string, JsonSchema> =>
  Object.fromEntries(
    Object.entries(schema.properties ?? {}).map(([name, property]) => [
      name,
      property.properties === undefined ? {} : { properties: propertyTree(property) },
    ]),
  );

/**
 * The API Gateway model of a request body, built from the zod schema its handler validates with.
 *
 * It requires a JSON object and declares the handler's property names (nested ones too), but constrains
 * nothing else: no `required`, no `additionalProperties: false`, no enums, and no property types. SPEC §2.5
 * makes the function answer the *first* failing check in a fixed order (body, then token, then fields, with
 * UNKNOWN_PARAMETER before MISSING_PARAMETER before INVALID_REQUEST), and it answers bad enum or union values
 * with INVALID_VALUE, a numeric token with INVALID_TOKEN. A gateway that checked types would answer
 * `{"token": "<expired>", "priority": 5}` with a 400 instead of INVALID_TOKEN, and a body missing one field
 * and mistyping another with INVALID_REQUEST instead of MISSING_PARAMETER. Only "the body is not a JSON
 * object" is refused here, with the code the function would use (INVALID_REQUEST, see the BAD_REQUEST_BODY
 * gateway response); only a non-object body that is also over 16 KiB gets that instead of PAYLOAD_TOO_LARGE.
 * The property types live in the OpenAPI document instead.
 */
export const structuralModel = (schema: z.core.$ZodType, title: string): JsonSchema => {
  const draft = toDraft4(schema);
  if (draft.type !== 'object') throw new Error(`Model ${title}: the body schema must describe an object`);
  return {
    schema: JsonSchemaVersion.DRAFT4,
    title,
    type: JsonSchemaType.OBJECT,
    properties: propertyTree(draft),
  };
};
