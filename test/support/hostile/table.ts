/** Every hostile request, in the order the test sends them (the worker deletions come last). */
import { ACCOUNT_CASES } from './accounts.js';
import type { HostileRequest } from './case.js';
import { GENERATE_CASES } from './generate.js';
import { OTHER_CASES } from './other.js';

export const HOSTILE_REQUESTS: HostileRequest[] = [...GENERATE_CASES, ...OTHER_CASES, ...ACCOUNT_CASES];
