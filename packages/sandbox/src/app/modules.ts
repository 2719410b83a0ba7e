import { cpiModule } from '../cpi/module.js';
import { ctmsModule } from '../ctms/module.js';
import { eamModule } from '../eam/index.js';
import { jiraModule } from '../jira/index.js';
import { sapBuildModule } from '../sap-build/index.js';
import { serviceNowModule } from '../servicenow/index.js';
import type { SandboxModule } from './module.js';

/** The modules every sandbox runs, in registration order. */
export const SANDBOX_MODULES: SandboxModule[] = [
  ctmsModule,
  cpiModule,
  eamModule,
  serviceNowModule,
  jiraModule,
  sapBuildModule,
];
