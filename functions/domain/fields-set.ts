import { ApiError } from './errors.ts';
import { CRM_FIELDS, type CrmProvisioningRequest } from './provisioning-request.ts';

export type CrmField = keyof CrmProvisioningRequest;

/** CRM.COM's `fields_set=a,b,c`: the fields to answer, each one a field of the request. */
export const parseFieldsSet = (text: string): CrmField[] => {
  const fields = text.split(',').map((f) => f.trim());
  const unknown = fields.find((f) => !(CRM_FIELDS as readonly string[]).includes(f));
  if (unknown !== undefined) {
    throw new ApiError(
      'INVALID_VALUE',
      'A parameter has a value that is not allowed.',
      `fields_set: ${unknown} is not a field`,
    );
  }
  return fields as CrmField[];
};

/** Keeps only the selected fields, in CRM.COM's order. */
export const selectFields = (
  view: CrmProvisioningRequest,
  fields: CrmField[] | undefined,
): Partial<CrmProvisioningRequest> =>
  fields === undefined
    ? view
    : Object.fromEntries(CRM_FIELDS.filter((f) => fields.includes(f)).map((f) => [f, view[f]]));
