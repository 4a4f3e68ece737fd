/**
 * Hostile requests for generation: image and text async, pop and submit. Every async case is invalid, so
 * that the test can check afterwards that nobody was charged.
 */
import {
  FORM,
  type HostileRequest,
  json,
  LONG_ID,
  MALFORMED_JSON,
  NUL,
  UUID_NOBODY,
  withBody,
} from './case.js';

const IMAGE = {
  prompt: 'a lighthouse at dusk',
  nsfw: false,
  models: ['stable_diffusion'],
  params: { width: 512, height: 512, steps: 20, n: 1 },
};
const image = (patch: Record<string, unknown>) => json({ ...IMAGE, ...patch });
const params = (patch: Record<string, unknown>) => json({ ...IMAGE, params: { ...IMAGE.params, ...patch } });
/** A raw JSON number the encoder cannot write (1e400, 2^53 + 1). */
const rawParam = (field: string, raw: string) =>
  `{"prompt":"a lighthouse","models":["stable_diffusion"],"params":{"${field}":${raw}}}`;
const words = (count: number) => 'word '.repeat(count).trimEnd();

const TEXT = {
  prompt: 'Once upon a time',
  models: ['koboldcpp/Mistral-7B-Instruct-v0.2'],
  params: { max_length: 80 },
};
const text = (patch: Record<string, unknown>) => json({ ...TEXT, ...patch });

const REGEN = 'AI Horde Worker reGen:10.1.1:https://github.com/Haidra-Org/horde-worker-reGen';
const POP = { name: 'hostile-worker', models: ['stable_diffusion'], bridge_agent: REGEN, amount: 1 };
const popBody = (patch: Record<string, unknown>) => json({ ...POP, ...patch });
const scribe = (patch: Record<string, unknown>) => json({ name: 'hostile-scribe', models: ['m'], ...patch });
const job = (patch: Record<string, unknown>) =>
  json({ id: '@@jobId@@', generation: 'R2', seed: 0, ...patch });

const imageAsync = withBody('image async', 'POST', '/generate/async', 'requester');
const textAsync = withBody('text async', 'POST', '/generate/text/async', 'requester');
const pop = withBody('pop', 'POST', '/generate/pop', 'worker');
const textPop = withBody('text pop', 'POST', '/generate/text/pop', 'worker');
const submit = withBody('submit', 'POST', '/generate/submit', 'worker');
const textSubmit = withBody('text submit', 'POST', '/generate/text/submit', 'worker');

const NUL_BYTE: [number, string] = [400, 'NulByteInPayload'];

export const GENERATE_CASES: HostileRequest[] = [
  // wrong types
  imageAsync('empty body', '', 400),
  imageAsync('empty object', '{}', 400),
  imageAsync('prompt is a number', image({ prompt: 123 }), 400),
  imageAsync('prompt is an object', image({ prompt: { text: 'x' } }), 400),
  imageAsync('prompt is a list', image({ prompt: ['a', 'b'] }), 400),
  imageAsync('prompt is null', image({ prompt: null }), 400),
  imageAsync('prompt is empty', image({ prompt: '' }), 400),
  imageAsync('params is a string', image({ params: 'abc' }), 400),
  imageAsync('params is a list', image({ params: [{ width: 512 }] }), 400),
  imageAsync('width is a string', params({ width: '512' }), 400),
  imageAsync('steps is "NaN"', params({ steps: 'NaN' }), 400),
  imageAsync('n is a string', params({ n: '2' }), 400),
  imageAsync('nsfw is a string', image({ nsfw: 'yes' }), 400),
  imageAsync('dry_run is a string', image({ dry_run: 'yes' }), 400),
  imageAsync('seed is an object', params({ seed: { value: 1 } }), 400),
  imageAsync('cfg_scale is a string', params({ cfg_scale: 'high' }), 400),
  // huge, negative and non-multiple numbers
  imageAsync('width 1e308', params({ width: 1e308 }), 400),
  imageAsync('width 2^53 + 1', rawParam('width', '9007199254740993'), 400),
  imageAsync('width -1', params({ width: -1 }), 400),
  imageAsync('width 1e400 (Infinity)', rawParam('width', '1e400'), 400),
  imageAsync('width 500 (not a multiple of 64)', params({ width: 500 }), 400),
  imageAsync('width 4096 (above 3072)', params({ width: 4096 }), 400),
  imageAsync('height 0', params({ height: 0 }), 400),
  imageAsync('steps 100000', params({ steps: 100_000 }), 400),
  imageAsync('steps 0', params({ steps: 0 }), 400),
  imageAsync('steps 1.5', params({ steps: 1.5 }), 400),
  imageAsync('n 100000', params({ n: 100_000 }), 400),
  imageAsync('n -1', params({ n: -1 }), 400),
  imageAsync('cfg_scale 1e308', params({ cfg_scale: 1e308 }), 400),
  imageAsync('clip_skip 100', params({ clip_skip: 100 }), 400),
  imageAsync('denoising_strength 5', params({ denoising_strength: 5 }), 400),
  imageAsync('sampler_name unknown', params({ sampler_name: 'k_bogus' }), 400),
  // lists that are not lists
  imageAsync('models is a string', image({ models: 'stable_diffusion' }), 400),
  imageAsync('models is an object', image({ models: { name: 'stable_diffusion' } }), 400),
  imageAsync('models holds numbers', image({ models: [1, 2] }), 400),
  imageAsync('models holds a 5 KB name', image({ models: [LONG_ID] }), 400),
  imageAsync('loras is an object', params({ loras: { name: 'x' } }), 400),
  imageAsync('loras is a string', params({ loras: 'x' }), 400),
  imageAsync('loras holds a number name', params({ loras: [{ name: 5 }] }), 400),
  imageAsync('post_processing is a string', params({ post_processing: 'GFPGAN' }), 400),
  imageAsync('workers is a string', image({ workers: 'abc' })),
  imageAsync('workers holds a non-id', image({ workers: ['not-a-worker-id'] })),
  // images, webhooks, prompts, sizes
  imageAsync('source_image is not base64', image({ source_image: 'not base64 at all!!' }), 400),
  imageAsync('source_image is truncated PNG base64', image({ source_image: 'iVBORw0KGgoAAAANSUhEUg' }), 400),
  imageAsync('source_processing unknown', image({ source_processing: 'explode' }), 400),
  imageAsync('webhook over http', image({ webhook: 'http://example.org/hook' }), 400),
  imageAsync('proxied_account from a normal user', image({ proxied_account: 'someone' }), 400),
  imageAsync('100,000-word prompt', () => image({ prompt: words(100_000) }), [400, 'InvalidPromptSize']),
  imageAsync('5 MB prompt', () => image({ prompt: words(1_000_000) }), [400, 'InvalidPromptSize']),
  imageAsync('17 MB body (over the limit)', () => image({ prompt: words(3_400_000) }), 413),
  imageAsync(
    '100,000 unknown params keys',
    () =>
      json({
        prompt: 7,
        params: Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i])),
      }),
    400,
  ),
  // NUL bytes
  imageAsync('NUL in the prompt', image({ prompt: `a${NUL}b` }), NUL_BYTE),
  imageAsync('NUL in a key', json({ ...IMAGE, [`pro${NUL}mpt`]: 'x' }), NUL_BYTE),
  imageAsync('NUL in a nested field', params({ loras: [{ name: `lora${NUL}` }] }), NUL_BYTE),
  // broken JSON
  ...MALFORMED_JSON.map(([name, body]) => imageAsync(`malformed JSON, ${name}`, body, 400)),
  imageAsync('10,000 nested arrays', () => `${'['.repeat(10_000)}${']'.repeat(10_000)}`, 400),
  imageAsync('10,000 nested objects', () => `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`, 400),
  imageAsync('10,000 unclosed arrays', () => '['.repeat(10_000), 400),
  // keys and content types
  imageAsync('no apikey', image({}), '4xx', { as: 'none' }),
  imageAsync('garbage apikey', image({}), [401, 'InvalidAPIKey'], { as: 'garbage' }),
  imageAsync('10 KB apikey', image({}), [401, 'InvalidAPIKey'], { as: 'huge' }),
  imageAsync('form-encoded body', 'prompt=a+lighthouse&models=stable_diffusion', 400, { headers: FORM }),
  imageAsync('text/plain body', 'a lighthouse at dusk', 400, { headers: { 'Content-Type': 'text/plain' } }),
  imageAsync(
    'multipart body',
    '--x\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nhi\r\n--x--\r\n',
    400,
    {
      headers: { 'Content-Type': 'multipart/form-data; boundary=x' },
    },
  ),

  textAsync('prompt missing', text({ prompt: undefined }), 400),
  textAsync('prompt is a number', text({ prompt: 1 }), 400),
  textAsync('max_length is a string', text({ params: { max_length: 'long' } }), 400),
  textAsync('max_length 1e308', text({ params: { max_length: 1e308 } }), 400),
  textAsync('n 100000', text({ params: { n: 100_000 } }), 400),
  textAsync('models is a string', text({ models: 'mistral' }), 400),
  textAsync('softprompt is an object', text({ softprompt: {} }), 400),
  textAsync(
    'max_length above max_context_length',
    text({ params: { max_length: 512, max_context_length: 256 } }),
    400,
  ),
  textAsync('extra_source_images', text({ extra_source_images: [{ image: 'x' }] }), 400),
  textAsync('NUL in the prompt', text({ prompt: `x${NUL}` }), NUL_BYTE),
  textAsync('malformed JSON', '{"prompt":', 400),
  textAsync('no apikey', text({}), '4xx', { as: 'none' }),

  pop('empty object', '{}', 400),
  pop('name is a number', popBody({ name: 42 }), 400),
  pop('name is an object', popBody({ name: { first: 'x' } }), 400),
  pop('5 KB name', popBody({ name: LONG_ID }), 400),
  pop('models is a string', popBody({ models: 'stable_diffusion' }), 400),
  pop('models empty', popBody({ models: [] }), 400),
  pop('amount 100000', popBody({ amount: 100_000 }), 400),
  pop('amount -1', popBody({ amount: -1 }), 400),
  pop('max_pixels is a string', popBody({ max_pixels: 'big' }), 400),
  pop('threads 1000', popBody({ threads: 1000 }), 400),
  pop('bridge_agent is an object', popBody({ bridge_agent: {} }), 400),
  pop('priority_usernames is a string', popBody({ priority_usernames: 'db0#1' }), 400),
  pop('blacklist is an object', popBody({ blacklist: { word: 1 } }), 400),
  pop('NUL in the name', popBody({ name: `w${NUL}` }), NUL_BYTE),
  pop('an array body', `[${popBody({})}]`, 400),
  pop('XML body', '<pop name="x"/>', 400, { headers: { 'Content-Type': 'application/xml' } }),
  pop('no apikey', popBody({}), '4xx', { as: 'none' }),
  pop('anonymous key', popBody({ name: 'anon-worker' }), [403, 'AnonForbiddenWorker'], { as: 'anon' }),
  pop('garbage apikey', popBody({}), 401, { as: 'garbage' }),

  textPop('empty object', '{}', 400),
  textPop('models empty', scribe({ models: [] }), 400),
  textPop('max_length is a string', scribe({ max_length: 'x' }), 400),
  textPop('softprompts is a string', scribe({ softprompts: 'x' }), 400),
  textPop('no apikey', scribe({}), '4xx', { as: 'none' }),

  submit('unknown job id', job({ id: UUID_NOBODY }), [404, 'InvalidJobID']),
  submit('garbage job id', job({ id: '../../etc/passwd' }), [404, 'InvalidJobID']),
  submit('id is a number', job({ id: 5 }), 400),
  submit('generation missing', job({ generation: undefined }), 400),
  submit('generation is a number', job({ generation: 12 }), 400),
  submit('seed is a string', job({ seed: 'abc' }), 400),
  submit('seed 1.5', job({ seed: 1.5 }), 400),
  submit('state unknown', job({ state: 'exploded' }), 400),
  submit('gen_metadata is a string', job({ gen_metadata: 'x' }), 400),
  submit('NUL in the generation', job({ generation: `R2${NUL}` }), NUL_BYTE),
  submit('by someone else', job({ state: 'ok' }), [403, 'WrongCredentials'], { as: 'requester' }),
  submit('no apikey', job({}), '4xx', { as: 'none' }),
  submit('trailing comma', '{"id": "@@jobId@@", "generation": "R2",}', 400),

  textSubmit('unknown job id', json({ id: UUID_NOBODY, generation: 'hi' }), [404, 'InvalidJobID']),
  textSubmit('generation is an object', json({ id: UUID_NOBODY, generation: {} }), 400),
  textSubmit('seed is a string', json({ id: UUID_NOBODY, generation: 'hi', seed: 'x' }), 400),
];
