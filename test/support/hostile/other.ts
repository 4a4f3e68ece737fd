/**
 * Hostile requests for request ids (check, status, cancel, stream), signed upload and image URLs, the
 * status and statistics pages, the test-user bootstrap and the `/register` form.
 */
import {
  FORM,
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

const REQUEST_NOT_FOUND: [number, string] = [404, 'RequestNotFound'];
const check = withPath('check', 'GET', 'none');
const status = withPath('status', 'GET', 'none');
const cancel = withPath('cancel', 'DELETE', 'none');
const textStatus = withPath('text status', 'GET', 'none');
const stream = withPath('stream', 'GET', 'none');
const upload = withPath('upload', 'PUT', 'none');
const image = withPath('image', 'GET', 'none');
const models = withPath('models', 'GET', 'none');
const stats = withPath('stats', 'GET', 'none');
const testUser = withBody('test-user', 'POST', '/dev/test-user', 'none');
const register = withBody('register', 'POST', '/register', 'none');

const WEBP = { body: 'RIFF', headers: { 'Content-Type': 'image/webp' } };
const html = { root: true, html: true };

export const OTHER_CASES: HostileRequest[] = [
  check('a random UUID', `/generate/check/${UUID_NOBODY}`, REQUEST_NOT_FOUND),
  check('not a UUID', '/generate/check/not-a-uuid', REQUEST_NOT_FOUND),
  check('SQL in the id', `/generate/check/${encodeURIComponent("' OR 1=1 --")}`, REQUEST_NOT_FOUND),
  status('../../etc/passwd (encoded)', `/generate/status/${TRAVERSAL}`, REQUEST_NOT_FOUND),
  status('../../etc/passwd (raw, the URL resolves it)', '/generate/status/../../etc/passwd', 404),
  status('%00', '/generate/status/%00', REQUEST_NOT_FOUND),
  status('5 KB id', `/generate/status/${LONG_ID}`, REQUEST_NOT_FOUND),
  status('unicode id', `/generate/status/${UNICODE_ID}`, REQUEST_NOT_FOUND),
  status('the real id with a NUL after it', '/generate/status/@@requestId@@%00', REQUEST_NOT_FOUND),
  cancel('garbage id', '/generate/status/not-a-uuid', REQUEST_NOT_FOUND),
  cancel('5 KB id', `/generate/status/${LONG_ID}`, REQUEST_NOT_FOUND),
  textStatus('garbage id', '/generate/text/status/not-a-uuid', REQUEST_NOT_FOUND),
  textStatus('%00', '/generate/text/status/%00', REQUEST_NOT_FOUND),
  textStatus('cancel a garbage id', `/generate/text/status/${TRAVERSAL}`, REQUEST_NOT_FOUND, {
    method: 'DELETE',
  }),
  stream('garbage id', '/generate/stream/not-a-uuid', REQUEST_NOT_FOUND),
  stream('unicode id', `/generate/stream/${UNICODE_ID}`, REQUEST_NOT_FOUND),

  upload('no signature', '@@uploadUrl@@', '4xx', WEBP),
  upload('wrong signature', '@@uploadUrl@@?expires=99999999999&sig=AAAA', '4xx', WEBP),
  upload('a 10 KB signature', `@@uploadUrl@@?expires=1&sig=${'A'.repeat(10_000)}`, '4xx', WEBP),
  upload('../../etc/passwd as the key', `@@uploadBase@@${TRAVERSAL}@@uploadQuery@@`, '4xx', WEBP),
  upload('%00 as the key', '@@uploadBase@@%00@@uploadQuery@@', '4xx', WEBP),
  upload('5 KB key', `@@uploadBase@@${LONG_ID}@@uploadQuery@@`, '4xx', WEBP),
  upload('unicode key', `@@uploadBase@@${UNICODE_ID}@@uploadQuery@@`, '4xx', WEBP),
  image('no signature', '@@imageUrl@@'),
  image('wrong signature', '@@imageUrl@@?expires=99999999999&sig=AAAA'),
  image('../../etc/passwd as the key', `@@imageBase@@${TRAVERSAL}@@imageQuery@@`),
  image('%00 as the key', '@@imageBase@@%00@@imageQuery@@'),
  image('5 KB key', `@@imageBase@@${LONG_ID}`),

  models('type unknown', '/status/models?type=bogus', 400),
  models('model_state unknown', '/status/models?model_state=bogus', 400),
  models('model_state %00', '/status/models?type=image&model_state=%00', 400),
  models('min_count=abc', '/status/models?min_count=abc&max_count=1e400', 'any'),
  models('one model, 5 KB name', `/status/models/${LONG_ID}`, 'any'),
  models('one model, ../../etc/passwd', `/status/models/${TRAVERSAL}`, 'any'),
  models('one model, %00', '/status/models/%00', 'any'),
  stats('model_state unknown', '/stats/img/models?model_state=bogus', 400),
  stats('model_state empty', '/stats/img/models?model_state=', 'any'),

  testUser('username is a number', json({ username: 123 }), 400),
  testUser('kudos is a string', json({ username: 'hostile_test', kudos: 'lots' }), 400),
  testUser('trusted is a string', json({ username: 'hostile_test', trusted: 'yes' }), 400),
  testUser('an array body', '[]', 400),
  testUser('malformed JSON', '{"a":}', 400),
  testUser('NUL in the username', json({ username: `x${NUL}` }), [400, 'NulByteInPayload']),
  register('JSON username is a number', json({ username: 123 }), '4xx', html),
  register('malformed JSON', '{"username":', '4xx', html),
  register('form with an empty username', 'username=', 'any', { ...html, headers: FORM }),
  register('form with a 5 KB username', `username=${LONG_ID}`, 'any', { ...html, headers: FORM }),
  register('form with a NUL', 'username=a%00b', 'any', { ...html, headers: FORM }),
  register('garbage multipart', '--x\r\ngarbage', 'any', {
    ...html,
    headers: { 'Content-Type': 'multipart/form-data; boundary=x' },
  }),
];
