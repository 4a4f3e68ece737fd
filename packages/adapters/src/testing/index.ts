/** Test support: the in-memory platform and the fake platform APIs the real SDKs talk to. */
export * from './fake-discord.js';
export * from './fake-server.js';
export * from './fake-slack.js';
export * from './fake-telegram.js';
export * from './memory-platform.js';
