import type { TenantRole } from '../store/tables.js';

/** Who is calling: resolved from the API token on every authenticated request. */
export interface Actor {
  tenantId: string;
  userId: string;
  email: string;
  tenantRole: TenantRole;
  tokenId: string;
}
