/**
 * Test support: the in-memory platform, the fake platform APIs the real SDKs talk to, and the adapter
 * conformance suite (which imports `vitest`: use this entry point from test files only).
 */
export * from './conformance.js';
export * from './fake-discord.js';
export * from './fake-server.js';
export * from './fake-slack.js';
export * from './fake-telegram.js';
export * from './memory-platform.js';
