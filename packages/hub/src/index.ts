export {
  bootstrapFirstAdmin,
  createTenant,
  DEFAULT_TENANT,
  findTenant,
  firstAdmin,
} from './access/tenants.js';
export { issueToken } from './access/tokens.js';
export { findUser } from './access/users.js';
export { type BuildHubOptions, buildHub, type Hub, hubSqliteFile } from './app/build-hub.js';
export type { Clock, HubDeps, HubDomain } from './app/deps.js';
export { hubDomains } from './app/domains.js';
export { loadMasterKey } from './app/master-key.js';
export type { CalmProject, CloudAlmClient } from './connectors/cloud-alm/client.js';
export { FakeCloudAlm } from './connectors/cloud-alm/fake-client.js';
export { HttpCloudAlmClient } from './connectors/cloud-alm/http-client.js';
export { type Connectors, createHttpConnectors } from './connectors/connectors.js';
export type { ResolvedCredential } from './connectors/credential.js';
export { RemoteCallError } from './connectors/remote-call-error.js';
export { landedBytes, landedDeliveries } from './inbox/landing-journal.js';
export { hubMigrationSets, hubMigrations } from './store/migrations.js';
export { PHASES as SYNC_PHASES, type SyncMode, type SyncPhase } from './sync/sync-progress.js';
export { HUB_VERSION } from './version.js';
