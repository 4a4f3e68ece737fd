// The hostile requests `test/server/malformed.test.ts` fires at a running server (spec §4.9, upstream's
// `test_malformed_requests.py`): one table per area, each case naming its sender, raw body and the
// status (and rc) the spec gives it.

// the case shape and the fixture's placeholders
export { type HostileFixture, type HostileRequest, resolvePlaceholders, type Sender } from './case.js';
// the table
export { HOSTILE_REQUESTS } from './table.js';
