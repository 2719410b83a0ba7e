export {
  type CloudAlmContractSubject,
  cloudAlmClientContract,
} from '../connectors/cloud-alm/client.contract.js';
export * from './calm-items.js';
export * from './calm-project.js';
export * from './fake-connectors.js';
export * from './scenario.js';
export * from './test-hub.js';
export * from './wait-for-jobs.js';
