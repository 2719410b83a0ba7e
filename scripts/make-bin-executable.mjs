// tsc does not set the executable bit; npm links the `calmhub` bin to this file.
import { chmodSync } from 'node:fs';

chmodSync(new URL('../packages/cli/dist/main.js', import.meta.url), 0o755);
