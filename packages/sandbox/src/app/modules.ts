import type { SandboxModule } from './module.js';

/** The modules every sandbox runs, in registration order. */
export const SANDBOX_MODULES: SandboxModule[] = [];
