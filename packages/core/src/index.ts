// @hordekit/core — the embedded AI Horde engine.

// errors and configuration
export * from './errors.js';
export * from './config.js';
export * from './clock.js';
export * from './ledger/money.js';

// request schemas (shared with the server's OpenAPI document)
export * from './requests/schemas.js';

// storage port
export * from './storage/types.js';
export * from './scheduler/requirements.js';
export * from './models/types.js';
