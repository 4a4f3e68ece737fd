/** Hostile requests for users, workers and kudos. */
import {
  type HostileRequest,
  json,
  LONG_ID,
  NUL,
  TRAVERSAL,
  UNICODE_ID,
  UUID_NOBODY,
  withBody,
  withPath,
} from './case.js';

const findUser = withPath('find_user', 'GET', 'none');
const users = withPath('users', 'GET', 'none');
const user = withPath('user', 'GET', 'none');
const ownUser = withBody('user PUT', 'PUT', '/users/@@requesterId@@', 'requester');
const otherUser = withBody('user PUT', 'PUT', '/users/@@bystanderId@@', 'admin');
const workers = withPath('workers', 'GET', 'none');
const worker = withPath('worker', 'GET', 'none');
const ownWorker = withBody('worker PUT', 'PUT', '/workers/@@workerId@@', 'worker');
const deleteWorker = withPath('worker DELETE', 'DELETE', 'worker');
const transfer = withBody('transfer', 'POST', '/kudos/transfer', 'sender');
const award = withBody('award', 'POST', '/kudos/award', 'admin');

const USER_NOT_FOUND: [number, string] = [404, 'UserNotFound'];
const WORKER_NOT_FOUND: [number, string] = [404, 'WorkerNotFound'];
const to = (username: string, amount: unknown) => json({ username, amount });
const toBystander = (amount: unknown) => to('@@bystanderAlias@@', amount);

export const ACCOUNT_CASES: HostileRequest[] = [
  findUser('no apikey', '/find_user', 401),
  findUser('garbage apikey', '/find_user', USER_NOT_FOUND, { as: 'garbage' }),
  findUser('10 KB apikey', '/find_user', USER_NOT_FOUND, { as: 'huge' }),
  users('page=abc', '/users?page=abc', 'any'),
  users('page=-1', '/users?page=-1', 'any'),
  users('page=1e400', '/users?page=1e400', 'any'),
  users('sort unknown', '/users?sort=%00bogus', 'any'),
  user('id 99999999999', '/users/99999999999', USER_NOT_FOUND),
  user('id 2147483648 (int4 + 1)', '/users/2147483648', USER_NOT_FOUND),
  user('id -1', '/users/-1', USER_NOT_FOUND),
  user('id 1e400', '/users/1e400', USER_NOT_FOUND),
  user('id 1.5', '/users/1.5', USER_NOT_FOUND),
  user('id db0', '/users/db0', USER_NOT_FOUND),
  user('5 KB of digits', `/users/${'9'.repeat(5 * 1024)}`, USER_NOT_FOUND),
  user('%00', '/users/%00', USER_NOT_FOUND),
  user('a key that matches nobody', '/users/@@requesterId@@', 401, { as: 'garbage' }),

  otherUser('id 99999999999', json({ trusted: true }), USER_NOT_FOUND, { path: '/users/99999999999' }),
  otherUser('id 1e400', json({ trusted: true }), USER_NOT_FOUND, { path: '/users/1e400' }),
  ownUser('nothing to change', '{}', [400, 'NoUserModSelected']),
  ownUser('own kudos', json({ kudos: 100 }), [403, 'NotAdmin']),
  ownUser('own trust', json({ trusted: true }), [403, 'NotModerator']),
  ownUser('public_workers is a string', json({ public_workers: 'yes' }), 400),
  ownUser('username is a number', json({ username: 123 }), 400),
  ownUser('5 KB username', json({ username: LONG_ID }), 400),
  ownUser('NUL in contact', json({ contact: `me${NUL}@example.org` }), [400, 'NulByteInPayload']),
  ownUser('an array body', '[]', 400),
  ownUser('someone else', json({ public_workers: true }), [403, 'NotModerator'], {
    path: '/users/@@bystanderId@@',
  }),
  ownUser('no apikey', json({ public_workers: true }), '4xx', { as: 'none' }),
  // Kudos the ledger cannot hold exactly (it counts integer centikudos) must be refused, not stored.
  otherUser('admin grants 1e308 kudos', json({ kudos: 1e308 }), 400),
  otherUser('admin grants 2^53 + 1 kudos', '{"kudos": 9007199254740993}', 400, { path: '/users/1' }),
  otherUser('kudos is a string', json({ kudos: 'lots' }), 400),
  otherUser('usage_multiplier 1e308', json({ usage_multiplier: 1e308 }), 400),
  otherUser('concurrency -1', json({ concurrency: -1 }), 400),

  workers('type unknown', '/workers?type=bogus', 'any'),
  workers('name with NUL', '/workers?name=%00', 'any'),
  worker('not a UUID', '/workers/not-a-uuid', WORKER_NOT_FOUND),
  worker('5 KB id', `/workers/${LONG_ID}`, WORKER_NOT_FOUND),
  worker('%00', '/workers/%00', WORKER_NOT_FOUND),
  worker('by name, 5 KB name', `/workers/name/${LONG_ID}`, WORKER_NOT_FOUND),
  worker('by name, unicode', `/workers/name/${UNICODE_ID}`, WORKER_NOT_FOUND),
  worker('by name, %00', '/workers/name/%00', WORKER_NOT_FOUND),
  ownWorker('unknown id', json({ maintenance: true }), WORKER_NOT_FOUND, { path: `/workers/${UUID_NOBODY}` }),
  ownWorker('nothing to change', '{}', [400, 'NoWorkerModSelected']),
  ownWorker('maintenance is a string', json({ maintenance: 'yes' }), 400),
  ownWorker('5 KB info', json({ info: LONG_ID }), 400),
  ownWorker('name is a number', json({ name: 123 }), 400),
  ownWorker('team is an object', json({ team: {} }), 400),
  ownWorker('NUL in info', json({ info: `x${NUL}` }), [400, 'NulByteInPayload']),
  ownWorker('owner pauses', json({ paused: true }), [403, 'NotModerator']),
  ownWorker('by a stranger', json({ maintenance: true }), [403, 'NotOwner'], { as: 'requester' }),
  ownWorker('no apikey', json({ maintenance: true }), '4xx', { as: 'none' }),
  deleteWorker('unknown id', `/workers/${TRAVERSAL}`, WORKER_NOT_FOUND),
  deleteWorker('by a stranger', '/workers/@@workerId@@', [403, 'NotModerator'], { as: 'requester' }),
  deleteWorker('no apikey', '/workers/@@workerId@@', '4xx', { as: 'none' }),

  transfer('empty object', '{}', 400),
  transfer('username is a number', to(123 as unknown as string, 5), 400),
  transfer('amount "NaN"', toBystander('NaN'), 400),
  transfer('amount -1', toBystander(-1), [400, 'NegativeKudosTransfer']),
  transfer('amount 0', toBystander(0), [400, 'InvalidKudosTransferAmount']),
  transfer('amount 1e308', toBystander(1e308), 400),
  transfer('amount 2^53 + 1', '{"username": "@@bystanderAlias@@", "amount": 9007199254740993}', 400),
  transfer('amount 1e400', '{"username": "@@bystanderAlias@@", "amount": 1e400}', 400),
  transfer('amount is a list', toBystander([5]), 400),
  transfer('to self', to('@@senderAlias@@', 5), [400, 'KudosTransferToSelf']),
  transfer('to Anonymous', to('Anonymous#0', 5), [400, 'KudosTransferToAnon']),
  transfer('to ../../etc/passwd', to('../../etc/passwd', 5)),
  transfer('to a 99999999999 id', to('ghost#99999999999', 5)),
  transfer('NUL in the username', to(`x${NUL}#1`, 5), [400, 'NulByteInPayload']),
  transfer('10 KB Idempotency-Key', toBystander(-5), 400, {
    headers: { 'Idempotency-Key': 'k'.repeat(10_000) },
  }),
  transfer('text/plain body', 'username=x&amount=5', 400, { headers: { 'Content-Type': 'text/plain' } }),
  transfer('null body', 'null', 400),
  transfer('17 MB body', () => to('x'.repeat(17 * 1_048_576), 5), 413),
  transfer('from Anonymous', toBystander(5), [400, 'KudosTransferFromAnon'], { as: 'anon' }),
  transfer('no apikey', toBystander(5), '4xx', { as: 'none' }),
  transfer('garbage apikey', toBystander(5), 401, { as: 'garbage' }),
  award('by a normal user', toBystander(5), [403, 'NotAllowedAwards'], { as: 'requester' }),
  award('amount is a string', toBystander('x'), 400),
  award('amount -5', toBystander(-5), 400),
  award('amount 1e308', toBystander(1e308), 400),
  award('unknown user', to('ghost#99999999', 5)),
  award('no apikey', toBystander(5), '4xx', { as: 'none' }),
];
