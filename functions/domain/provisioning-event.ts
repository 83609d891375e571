import { type CrmProvisioningRequest, type ProvisioningRequest, toCrmView } from './provisioning-request.ts';

export const EVENT_DETAIL_TYPES = {
  COMPLETED: 'Provisioning Request Completed',
  REJECTED: 'Provisioning Request Rejected',
} as const;

/** What an event says (SPEC §3.1): the request as show answers it, without the headend's wire record. */
export type ProvisioningEventDetail = Omit<CrmProvisioningRequest, 'request' | 'response'> & { organisation: string };

export type ProvisioningEvent = {
  /** The request it is about: consumers dedupe on it (delivery is at least once). */
  requestId: string;
  detailType: (typeof EVENT_DETAIL_TYPES)[keyof typeof EVENT_DETAIL_TYPES];
  /** When the request reached its final state, as an ISO instant. */
  time: string;
  detail: ProvisioningEventDetail;
};

/** The event of a request that has reached COMPLETED or REJECTED. */
export const eventOf = (request: ProvisioningRequest, timeZone: string): ProvisioningEvent => {
  if (request.lifeCycleState === 'PENDING') throw new Error(`Request ${request.id} is not final`);
  const { request: _sent, response: _reply, ...view } = toCrmView(request, timeZone);
  return {
    requestId: request.id,
    detailType: EVENT_DETAIL_TYPES[request.lifeCycleState],
    time: request.updatedAt,
    detail: { ...view, organisation: request.organisation },
  };
};
