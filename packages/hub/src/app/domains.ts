import { registerAccessRoutes } from '../access/routes.js';
import { registerAuditRoutes } from '../audit/routes.js';
import { registerComponentRoutes } from '../components/routes.js';
import { registerCredentialRoutes } from '../credentials/routes.js';
import { registerDependencyRoutes } from '../dependencies/routes.js';
import { inboxDomain } from '../inbox/domain.js';
import { registerIntegrationRoutes } from '../integrations/routes.js';
import { registerPipelineRoutes } from '../pipelines/routes.js';
import { runsDomain } from '../runs/domain.js';
import { registerStoryRoutes } from '../stories/routes.js';
import { syncDomain } from '../sync/domain.js';
import { writeBackDomain } from '../writeback/domain.js';
import type { HubDomain } from './deps.js';

/** The hub's domains, in registration order. A new domain is a folder plus one line here. */
export const hubDomains: HubDomain[] = [
  { name: 'access', routes: registerAccessRoutes },
  { name: 'credentials', routes: registerCredentialRoutes },
  { name: 'integrations', routes: registerIntegrationRoutes },
  // components first: the stories' schemas refer to its `Component`.
  { name: 'components', routes: registerComponentRoutes },
  { name: 'stories', routes: registerStoryRoutes },
  { name: 'dependencies', routes: registerDependencyRoutes },
  { name: 'pipelines', routes: registerPipelineRoutes },
  syncDomain,
  writeBackDomain,
  inboxDomain,
  runsDomain,
  { name: 'audit', routes: registerAuditRoutes },
];
