import { registerAccessRoutes } from '../access/routes.js';
import { registerCredentialRoutes } from '../credentials/routes.js';
import { registerIntegrationRoutes } from '../integrations/routes.js';
import type { HubDomain } from './deps.js';

/** The hub's domains, in registration order. A new domain is a folder plus one line here. */
export const hubDomains: HubDomain[] = [
  { name: 'access', routes: registerAccessRoutes },
  { name: 'credentials', routes: registerCredentialRoutes },
  { name: 'integrations', routes: registerIntegrationRoutes },
];
