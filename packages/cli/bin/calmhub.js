#!/usr/bin/env -S node --max-semi-space-size=64
// The flag: a young generation large enough that what a webhook burst allocates per request dies
// young. With V8's default (16 MB semi-spaces) much of it outlived two scavenges and was copied into
// the old generation, and garbage collection took more of the event loop than the edge's own work
// (README, "Quick start"). `npm start` passes the same flag; bench:webhook reads it from this line.
// Committed (not built) so npm can link the `calmhub` bin at install time, before the first build.
try {
  await import('../dist/main.js');
} catch (error) {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/main.js')) {
    process.stderr.write('calmhub is not built yet: run `npm run build` in the repository first.\n');
    process.exit(1);
  }
  throw error;
}
