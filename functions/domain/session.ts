/** An organisational unit, as CRM.COM shows it in `log_information`. */
export type Unit = {
  id: string;
  name: string;
  group_name: string;
  community_name: string;
  description: string;
  alternative_code: string;
};

export type UserSummary = { id: string; username: string; person_name: string };

/** A user as the login needs it: the units are copied in at load time so a login reads one item. */
export type User = UserSummary & {
  organisation: string;
  password_hash: string;
  default_unit_id: string;
  units: Unit[];
};

/** What a live token stands for; every look-up made with it is scoped to its organisation (SPEC §2). */
export type Session = { organisation: string; user: UserSummary; unit: Unit; lastUsedAt: Date };
