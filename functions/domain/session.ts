import type { Unit, UserSummary } from './provisioning-request.ts';

/** A user as the login needs it: the units are copied in at load time so a login reads one item. */
export type User = UserSummary & {
  organisation: string;
  password_hash: string;
  default_unit_id: string;
  units: Unit[];
};

/** What a live token stands for. */
export type Session = { user: UserSummary; unit: Unit; lastUsedAt: Date };
