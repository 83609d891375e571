import { ApiError } from './errors.ts';

export const NAGRAVISION = 'NAGRAVISION';

export type Subscription = { id: string; number: string };

export type InstalledItem = {
  id: string;
  serial_number: string;
  alternative_code?: string;
  subscription_id: string;
  /** How the provisioning provider classifies the item's product. */
  classification: 'SMARTCARD' | 'STB';
  provisioning_provider: string;
  smartcard_ca_id?: string;
  sub_provisioning_distribution_id?: string;
};

export type ClearPinTarget = { subscription: Subscription; smartcard: InstalledItem & { smartcard_ca_id: string } };

/**
 * The smartcard must be an installed item of that subscription, classified as a smartcard of the Nagravision
 * provisioning provider (SPEC §2.3). The subscription is checked before the item, and membership before the
 * classification.
 */
export const resolveClearPinTarget = (
  subscription: Subscription | undefined,
  item: InstalledItem | undefined,
  asked: { subscription: string; smartcard: string },
): ClearPinTarget => {
  if (!subscription) {
    throw new ApiError(
      'SUBSCRIPTION_NOT_FOUND',
      'The subscription was not found.',
      `subscription_identifier ${asked.subscription}`,
    );
  }
  if (!item) {
    throw new ApiError(
      'SMARTCARD_NOT_FOUND',
      'The smartcard was not found.',
      `smartcard_identifier ${asked.smartcard}`,
    );
  }
  if (item.subscription_id !== subscription.id) {
    throw new ApiError(
      'SMARTCARD_NOT_IN_SUBSCRIPTION',
      'The smartcard does not belong to the subscription.',
      `smartcard_identifier ${asked.smartcard} is not installed on subscription ${subscription.number}`,
    );
  }
  if (item.classification !== 'SMARTCARD' || item.provisioning_provider !== NAGRAVISION || !item.smartcard_ca_id) {
    throw new ApiError(
      'NOT_A_NAGRAVISION_SMARTCARD',
      'The installed item is not a Nagravision smartcard.',
      `smartcard_identifier ${asked.smartcard} is a ${item.provisioning_provider} ${item.classification}`,
    );
  }
  return { subscription, smartcard: item as ClearPinTarget['smartcard'] };
};
