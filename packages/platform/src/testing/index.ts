export * from './test-store.js';
