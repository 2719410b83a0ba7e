export * from './fake-clock.js';
export * from './test-store.js';
