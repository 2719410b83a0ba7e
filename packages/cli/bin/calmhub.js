#!/usr/bin/env node
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
