import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HordeError, type ReturnCode } from '../errors.js';
import type { ImageBaseline, ImageModelInfo, ModelReference } from '../models/types.js';
import { ImageGenerateSchema } from './schemas.js';
import {
  formatZodError,
  type PopValidationContext,
  parseImagePop,
  parseImageRequest,
  parseImageSubmit,
  parseTextPop,
  parseTextRequest,
  parseTextSubmit,
  parseTransferAmount,
  parseWith,
  type ValidationContext,
} from './validate.js';

const BASELINES: Record<string, ImageBaseline> = {
  stable_diffusion: 'stable_diffusion_1',
  pix2pix: 'stable_diffusion_1',
  'SDXL 1.0': 'stable_diffusion_xl',
  'Stable Cascade 1.0': 'stable_cascade',
  'Flux.1-Schnell': 'flux_1',
  'Qwen-Image': 'qwen_image',
  'Z-Image-Turbo': 'z_image',
};

function imageInfo(name: string): ImageModelInfo | undefined {
  const baseline = BASELINES[name];
  if (baseline === undefined) return undefined;
  const requiresSourceImage = name === 'pix2pix';
  return { name, baseline, nsfw: false, inpainting: false, requiresSourceImage, requirements: {} };
}

const models: ModelReference = {
  image: imageInfo,
  text: () => undefined,
  imageModels: () => Object.keys(BASELINES).flatMap((name) => imageInfo(name) ?? []),
};

type Roles = ValidationContext['roles'];
const ctx = (roles: Partial<Roles> = {}, maxPromptWords = 7500): ValidationContext => ({
  roles: { trusted: false, special: false, service: false, education: false, ...roles },
  models,
  maxPromptWords,
});
const popCtx = (overrides: Partial<PopValidationContext> = {}): PopValidationContext => ({
  roles: { customizer: false, special: false },
  models,
  ownerAlias: 'db0#1',
  ...overrides,
});

function caught(run: () => unknown): HordeError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(HordeError);
    return error as HordeError;
  }
  throw new Error('expected a HordeError');
}
const expectRc = (run: () => unknown, rc: ReturnCode) => expect(caught(run).rc).toBe(rc);

const image = (body: Record<string, unknown>, roles: Partial<Roles> = {}, maxWords?: number) =>
  parseImageRequest({ prompt: 'a cat', ...body }, ctx(roles, maxWords));
const withParams = (params: Record<string, unknown>, body: Record<string, unknown> = {}) =>
  image({ ...body, params });
const text = (body: Record<string, unknown>, roles: Partial<Roles> = {}) =>
  parseTextRequest({ prompt: 'Once upon a time', ...body }, ctx(roles));

const repeat = <T>(count: number, make: (index: number) => T): T[] =>
  Array.from({ length: count }, (_, i) => make(i));
const source = { source_image: 'aGVsbG8=' };
const remix = { ...source, source_processing: 'remix', models: ['Stable Cascade 1.0'] };
const extras = (count: number) => repeat(count, () => ({ image: 'aGVsbG8=' }));

describe('image requests: cross-field rules', () => {
  // [rc, failing input, passing neighbour]
  const cases: [ReturnCode, () => unknown, () => unknown][] = [
    ['MissingPrompt', () => image({ prompt: '' }), () => image({ prompt: 'x' })],
    ['MissingPrompt', () => image({ prompt: ' \n\t ' }), () => image({ prompt: ' x ' })],
    [
      'InvalidPromptSize',
      () => image({ prompt: 'a b  c\nd' }, {}, 3),
      () => image({ prompt: ' a b c ' }, {}, 3),
    ],
    ['BadCFGDecimals', () => withParams({ cfg_scale: 7.125 }), () => withParams({ cfg_scale: 7.12 })],
    [
      'TooManyUpscalers',
      () => withParams({ post_processing: ['RealESRGAN_x4plus', 'NMKD_Siax'] }),
      () => withParams({ post_processing: ['RealESRGAN_x4plus', 'GFPGAN', 'strip_background'] }),
    ],
    [
      'TooManyLoras',
      () => withParams({ loras: repeat(6, (i) => ({ name: `l${i}` })) }),
      () => withParams({ loras: repeat(5, (i) => ({ name: `l${i}` })) }),
    ],
    [
      'BadLoraVersion',
      () => withParams({ loras: [{ name: '12a', is_version: true }] }),
      () => withParams({ loras: [{ name: '123', is_version: true }, { name: '12a' }] }),
    ],
    [
      'TooManyTIs',
      () => withParams({ tis: repeat(21, (i) => ({ name: `t${i}` })) }),
      () => withParams({ tis: repeat(20, (i) => ({ name: `t${i}` })) }),
    ],
    [
      'ControlNetSourceMissing',
      () => withParams({ control_type: 'canny' }),
      () => withParams({ control_type: 'canny' }, source),
    ],
    [
      'ControlNetInpaintingMismatch',
      () => withParams({ control_type: 'canny' }, { ...source, source_processing: 'inpainting' }),
      () => withParams({ control_type: 'canny' }, { ...source, source_processing: 'img2img' }),
    ],
    [
      'ControlNetInpaintingMismatch',
      () => withParams({ control_type: 'depth' }, { ...source, source_processing: 'outpainting' }),
      () => withParams({}, { ...source, source_processing: 'outpainting' }),
    ],
    ...['SDXL 1.0', 'Stable Cascade 1.0', 'Flux.1-Schnell', 'Qwen-Image', 'Z-Image-Turbo'].map(
      (model): [ReturnCode, () => unknown, () => unknown] => [
        'ControlNetMismatch',
        () => withParams({ control_type: 'canny' }, { ...source, models: ['stable_diffusion', model] }),
        () =>
          withParams({ control_type: 'canny' }, { ...source, models: ['stable_diffusion', 'unknown model'] }),
      ],
    ),
    ...['Flux.1-Schnell', 'Qwen-Image', 'Z-Image-Turbo'].map(
      (model): [ReturnCode, () => unknown, () => unknown] => [
        'HiResMismatch',
        () => withParams({ hires_fix: true }, { models: [model] }),
        () => withParams({ hires_fix: true }, { models: ['SDXL 1.0', 'stable_diffusion'] }),
      ],
    ),
    [
      'SourceMaskUnnecessary',
      () => image({ source_mask: 'bWFzaw==' }),
      () => image({ ...source, source_mask: 'bQ==' }),
    ],
    [
      'SourceImageRequiredForModel',
      () => image({ models: ['pix2pix'] }),
      () => image({ ...source, models: ['pix2pix'] }),
    ],
    [
      'UnexpectedModelName',
      () => image({ models: ['GFPGAN'] }),
      () => image({ models: ['GFPGAN-like model'] }),
    ],
    ['Forbidden', () => image({ models: ['horde_special::db0#1'] }), () => image({ models: ['special_k'] })],
    ['BadRequest', () => withParams({ special: { a: 1 } }), () => withParams({})],
    [
      'InvalidExtraSourceImages.',
      () => image({ ...source, extra_source_images: extras(1) }),
      () => image(remix),
    ],
    [
      'TooManyExtraSourceImages.',
      () => image({ ...remix, extra_source_images: extras(6) }, { trusted: true }),
      () => image({ ...remix, extra_source_images: extras(5) }, { trusted: true }),
    ],
    [
      'RequiresTrust',
      () => image({ ...remix, extra_source_images: extras(2) }),
      () => image({ ...remix, extra_source_images: extras(1) }),
    ],
    [
      'RequiresTrust',
      () => withParams({ n: 2 }, { disable_batching: true }),
      () => withParams({ n: 1 }, { disable_batching: true }),
    ],
    [
      'InvalidRemix',
      () => image({ ...remix, models: ['SDXL 1.0'] }),
      () => image({ ...remix, models: ['my remix'] }),
    ],
    [
      'BadRequest',
      () => image({ webhook: 'http://example.com/hook' }),
      () => image({ webhook: 'https://example.com' }),
    ],
    ['OnlyServiceAccountProxy', () => image({ proxied_account: 'someone' }), () => image({})],
  ];
  it.each(cases.map(([rc, fail, pass]) => ({ rc, fail, pass })))(
    '$rc and its passing neighbour',
    ({ rc, fail, pass }) => {
      const error = caught(fail);
      expect(error.rc).toBe(rc);
      expect(error.message.length).toBeGreaterThan(10);
      expect(() => pass()).not.toThrow();
    },
  );

  it('lets roles through what they unlock', () => {
    expect(() => image({ ...remix, extra_source_images: extras(2) }, { trusted: true })).not.toThrow();
    expect(() => image({ disable_batching: true, params: { n: 2 } }, { trusted: true })).not.toThrow();
    expect(() => image({ proxied_account: 'someone' }, { service: true })).not.toThrow();
    const special = { models: ['horde_special::db0#1'], params: { special: { a: 1 } } };
    expect(() => image(special, { special: true })).not.toThrow();
  });

  it('reports duplicated post-processors in the validation-error shape', () => {
    const error = caught(() => withParams({ post_processing: ['GFPGAN', 'GFPGAN'] }));
    expect(error.rc).toBe('ValidationError');
    expect(error.errors).toEqual({ 'params.post_processing': 'has non-unique elements' });
  });
});

describe('image requests: defaults and normalisation', () => {
  it('applies the defaults the public horde applies', () => {
    const body = image({});
    expect(body).toMatchObject({
      models: ['stable_diffusion'],
      nsfw: true,
      censor_nsfw: true,
      shared: false,
    });
    expect(body.params).toMatchObject({
      cfg_scale: 5,
      steps: 30,
      karras: true,
      width: 512,
      height: 512,
      n: 1,
    });
    expect(body.params.sampler_name).toBe('k_euler_a');
    expect(image({ models: [] }).models).toEqual([]);
  });

  it('resolves steps: 30, 20 with ControlNet, ControlNet capped to 40', () => {
    expect(withParams({}).params.steps).toBe(30);
    expect(withParams({ steps: 100 }).params.steps).toBe(100);
    expect(withParams({ control_type: 'canny' }, source).params.steps).toBe(20);
    expect(withParams({ control_type: 'canny', steps: 100 }, source).params.steps).toBe(40);
    expect(withParams({ control_type: 'canny', steps: 25 }, source).params.steps).toBe(25);
  });

  it('keeps 5 worker ids, forces shared off, drops denoising without a source image', () => {
    const body = image({
      workers: repeat(7, (i) => `w${i}`),
      shared: true,
      params: { denoising_strength: 0.5 },
    });
    expect(body.workers).toEqual(['w0', 'w1', 'w2', 'w3', 'w4']);
    expect(body.shared).toBe(false);
    expect(body.params).not.toHaveProperty('denoising_strength');
    expect(withParams({ denoising_strength: 0.5 }, source).params.denoising_strength).toBe(0.5);
  });

  it('forces education accounts to safe settings', () => {
    const body = image(
      { nsfw: true, censor_nsfw: false, trusted_workers: false, shared: true },
      { education: true },
    );
    expect(body).toMatchObject({ nsfw: false, censor_nsfw: true, trusted_workers: true, shared: false });
  });
});

describe('validation-error shape', () => {
  const errorsOf = (run: () => unknown) => {
    const error = caught(run);
    expect(error.rc).toBe('ValidationError');
    expect(error.message).toBe('Input payload validation failed');
    return error.errors;
  };

  it('names each field with a readable reason', () => {
    expect(errorsOf(() => withParams({ width: 500, steps: 1000, n: 100 }))).toEqual({
      'params.width': '500 is not a multiple of 64',
      'params.steps': '1000 is greater than the maximum of 500',
      'params.n': '100 is greater than the maximum of 20',
    });
    expect(errorsOf(() => withParams({ steps: 0, height: 64.5 }))).toEqual({
      'params.height': '64.5 is not an integer',
      'params.steps': '0 is less than the minimum of 1',
    });
  });

  it('explains wrong types, missing fields, bad enums and list sizes without echoing strings', () => {
    const errors = errorsOf(() =>
      parseImageRequest(
        {
          nsfw: 'yes',
          models: 'x',
          params: { sampler_name: 'nope', loras: [{}] },
          workers: repeat(21, () => 'w'),
        },
        ctx(),
      ),
    );
    expect(errors).toMatchObject({
      prompt: 'is a required property',
      nsfw: 'must be a boolean, not a string',
      models: 'must be an array, not a string',
      'params.loras.0.name': 'is a required property',
      workers: 'must have at most 20 items',
    });
    expect(errors?.['params.sampler_name']).toMatch(/^must be one of: k_lms, /);
    expect(JSON.stringify(errors)).not.toContain('nope');
  });

  it('uses the key `payload` for a non-object body', () => {
    for (const input of [null, 42, 'text', [], true]) {
      expect(Object.keys(errorsOf(() => parseImageRequest(input, ctx())) ?? {})).toEqual(['payload']);
    }
    expect(errorsOf(() => parseTextRequest(null, ctx()))).toEqual({ payload: 'must be an object, not null' });
  });

  it('formatZodError also works on errors parsed without reported input', () => {
    const result = parseWithout({ params: { width: 500 } });
    expect(result).toMatchObject({
      prompt: 'is a required property',
      'params.width': 'the value is not a multiple of 64',
    });
  });
});

function parseWithout(input: unknown) {
  const result = ImageGenerateSchema.safeParse(input);
  return result.success ? {} : formatZodError(result.error);
}

describe('NUL bytes', () => {
  it('rejects a NUL anywhere, before the schema, and says where in details', () => {
    const error = caught(() => parseImageRequest({ prompt: 'a\u0000b', params: { width: 1 } }, ctx()));
    expect(error.rc).toBe('NulByteInPayload');
    expect(error.message).toBe('Request payload may not contain NUL (0x00) bytes.');
    expect(error.details).toEqual({ path: 'prompt' });
    const nested = caught(() => withParams({ loras: [{ name: 'x\u0000' }] }));
    expect(nested.details).toEqual({ path: 'params.loras.0.name' });
    expectRc(() => parseTextRequest({ prompt: 'x', 'k\u0000': 1 }, ctx()), 'NulByteInPayload');
    expectRc(() => parseImageSubmit({ id: 'x', generation: '\u0000', seed: 1 }), 'NulByteInPayload');
    expectRc(() => parseTextPop({ name: 'w', models: ['m\u0000'] }, popCtx()), 'NulByteInPayload');
  });

  it('walks deep and cyclic inputs without overflowing', () => {
    let deep: unknown = 'ok';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const body = { prompt: 'x', params: { special: { deep } } };
    expect(parseImageRequest(body, ctx({ special: true })).params.special?.deep).toBe(deep);
    const cyclic: Record<string, unknown> = { prompt: 'x' };
    cyclic.self = cyclic;
    expect(() => parseTextRequest(cyclic, ctx())).not.toThrow();
  });
});

describe('text requests', () => {
  const cases: [ReturnCode, () => unknown, () => unknown][] = [
    ['MissingPrompt', () => text({ prompt: '   ' }), () => text({ prompt: '.' })],
    [
      'TokenOverflow',
      () => text({ params: { max_length: 512, max_context_length: 256 } }),
      () => text({ params: { max_length: 256, max_context_length: 256 } }),
    ],
    [
      'MissingFullSamplerOrder',
      () => text({ params: { sampler_order: [6, 0, 1, 3, 4, 2, 2, 2] } }),
      () => text({ params: { sampler_order: [6, 0, 1, 3, 4, 2, 5] } }),
    ],
    ['MissingFullSamplerOrder', () => text({ params: { sampler_order: [] } }), () => text({ params: {} })],
    [
      'TooManyStopSequences',
      () => text({ params: { stop_sequence: repeat(129, (i) => `s${i}`) } }),
      () => text({ params: { stop_sequence: repeat(300, (i) => `s${i % 128}`) } }),
    ],
    [
      'ExcessiveStopSequence',
      () => text({ params: { stop_sequence: ['a'.repeat(1000), 'b'.repeat(1001)] } }),
      () => text({ params: { stop_sequence: ['a'.repeat(1000), 'b'.repeat(1000), 'a'.repeat(1000)] } }),
    ],
    [
      'InvalidExtraSourceImages.',
      () => text({ extra_source_images: extras(1) }),
      () => text({ extra_source_images: [] }),
    ],
    [
      'BadRequest',
      () => text({ webhook: 'ftp://example.com/x' }),
      () => text({ webhook: 'https://example.com/x' }),
    ],
    [
      'OnlyServiceAccountProxy',
      () => text({ proxied_account: 'p' }),
      () => text({ proxied_account: 'p' }, { service: true }),
    ],
    [
      'RequiresTrust',
      () => text({ disable_batching: true, params: { n: 3 } }),
      () => text({ disable_batching: true, params: { n: 3 } }, { trusted: true }),
    ],
  ];
  it.each(cases.map(([rc, fail, pass]) => ({ rc, fail, pass })))(
    '$rc and its passing neighbour',
    ({ rc, fail, pass }) => {
      expectRc(fail, rc);
      expect(() => pass()).not.toThrow();
    },
  );

  it('applies defaults and normalises', () => {
    const body = text({
      workers: repeat(6, (i) => `w${i}`),
      params: { stop_sequence: ['\n', 'You:', '\n'] },
    });
    expect(body.models).toEqual([]);
    expect(body.params).toMatchObject({ n: 1, max_length: 80, max_context_length: 2048 });
    expect(body.params.stop_sequence).toEqual(['\n', 'You:']);
    expect(body.workers).toHaveLength(5);
    expect(body.trusted_workers).toBe(false);
    expect(text({}, { education: true }).trusted_workers).toBe(true);
    expect(text({ prompt: 'word '.repeat(10_000) }).prompt).toHaveLength(50_000); // no word limit for text
  });
});

describe('worker pops', () => {
  const pop = (body: Record<string, unknown>, overrides: Partial<PopValidationContext> = {}) =>
    parseImagePop({ name: 'Dreamer', models: ['stable_diffusion'], ...body }, popCtx(overrides));
  const textPop = (body: Record<string, unknown>, overrides: Partial<PopValidationContext> = {}) =>
    parseTextPop({ name: 'Scribe', models: ['koboldcpp/Llama-3-8B'], ...body }, popCtx(overrides));

  it('checks worker names', () => {
    expectRc(() => pop({ name: 'x'.repeat(101) }), 'TooLongWorkerName');
    expect(pop({ name: 'x'.repeat(100) }).name).toHaveLength(100);
    for (const name of ['My Colab box', 'TPU-1', 'googled']) {
      const error = caught(() => pop({ name }));
      expect(error.rc).toBe('ProfaneWorkerName');
      expect(error.message).toContain('reserved');
      expectRc(() => textPop({ name }), 'ProfaneWorkerName');
    }
    expect(() => pop({ name: 'Cola box' })).not.toThrow();
  });

  it('checks priority usernames', () => {
    for (const alias of ['db0', 'db0#', 'db0#x', '#', 'db0#1 ']) {
      expectRc(() => pop({ priority_usernames: ['ok#2', alias] }), 'InvalidPriorityUsername');
    }
    expect(pop({ priority_usernames: ['db0#1', 'a#b#22'] }).priority_usernames).toEqual(['db0#1', 'a#b#22']);
  });

  it('applies pop defaults', () => {
    expect(pop({})).toMatchObject({
      nsfw: true,
      max_pixels: 262_144,
      allow_lora: false,
      allow_controlnet: false,
    });
    expect(textPop({})).toMatchObject({ max_length: 512, max_context_length: 2048, softprompts: [] });
  });

  it('cleans image model lists and drops unknown models unless the owner may serve them', () => {
    const long = `${'m'.repeat(100)}`;
    const served = ['stable_diffusion', 'stable_diffusion', 'My Checkpoint', `${long}A`, `${long}B`];
    expect(pop({ models: served }).models).toEqual(['stable_diffusion']);
    expect(pop({ models: served }, { roles: { customizer: true, special: false } }).models).toEqual([
      'stable_diffusion',
      'My Checkpoint',
      long,
    ]);
    expect(pop({ models: served }, { acceptUnknownImageModels: true }).models).toHaveLength(3);
    const special = { roles: { customizer: false, special: true } };
    expect(pop({ models: ['mine::db0#1'] }, special).models).toEqual(['mine::db0#1']);
    expectRc(() => pop({ models: ['theirs::other#2'] }, special), 'BadRequest');
    expect(pop({ models: ['mine::db0#1', 'SDXL 1.0'] }).models).toEqual(['SDXL 1.0']);
  });

  it('refuses image workers with no model left, in words the reGen worker recognises', () => {
    for (const models of [['My Checkpoint'], [], undefined]) {
      const error = caught(() => pop({ models }));
      expect(error.rc).toBe('NoValidModels');
      expect(error.message).toMatch(
        /^Unfortunately we cannot accept workers serving unrecognised models at this time\. \w/,
      );
    }
  });

  it('requires text workers to name a model, and owner-suffixed models to be their own', () => {
    const error = caught(() => textPop({ models: [] }));
    expect(error.rc).toBe('NoValidModels');
    expect(error.message).toContain('we cannot accept workers serving');
    expect(error.message).toContain('text worker must name');
    expect(textPop({ models: ['any/Unknown-7B', 'mine::db0#1', 'any/Unknown-7B'] }).models).toEqual([
      'any/Unknown-7B',
      'mine::db0#1',
    ]);
    expectRc(() => textPop({ models: ['theirs::other#2'] }), 'BadRequest');
  });
});

describe('submits and transfers', () => {
  it('validates submits with the schema', () => {
    expect(parseImageSubmit({ id: 'job', generation: 'R2', seed: 3 })).toMatchObject({
      state: 'ok',
      seed: 3,
    });
    expectRc(() => parseImageSubmit({ id: 'job', generation: 'R2' }), 'ValidationError');
    const metadata = repeat(51, () => ({ type: 'information', value: 'see_ref' }));
    expectRc(
      () => parseImageSubmit({ id: 'job', generation: 'R2', seed: 1, gen_metadata: metadata }),
      'ValidationError',
    );
    expect(parseTextSubmit({ id: 'job', generation: 'hi' })).toMatchObject({ seed: 0, state: 'ok' });
    expectRc(() => parseTextSubmit({ id: 'job', generation: 'hi', state: 'weird' }), 'ValidationError');
  });

  it('accepts positive whole kudos amounts only', () => {
    expect(parseTransferAmount(10)).toBe(10);
    for (const amount of [0, -0, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '10', undefined, null, {}]) {
      expectRc(() => parseTransferAmount(amount), 'InvalidKudosTransferAmount');
    }
    expectRc(() => parseTransferAmount(-5), 'NegativeKudosTransfer');
    expectRc(() => parseTransferAmount(-0.5), 'NegativeKudosTransfer');
  });
});

describe('fuzzing: only HordeError ever escapes', () => {
  const parsers: [string, (input: unknown) => unknown][] = [
    ['image', (input) => parseImageRequest(input, ctx())],
    [
      'image (all roles)',
      (input) => parseImageRequest(input, ctx({ trusted: true, special: true, service: true })),
    ],
    ['text', (input) => parseTextRequest(input, ctx({ education: true }))],
    ['image pop', (input) => parseImagePop(input, popCtx())],
    [
      'image pop (special)',
      (input) => parseImagePop(input, popCtx({ roles: { customizer: true, special: true } })),
    ],
    ['text pop', (input) => parseTextPop(input, popCtx())],
    ['image submit', parseImageSubmit],
    ['text submit', parseTextSubmit],
    ['transfer amount', parseTransferAmount],
  ];
  const onlyHordeErrors = (parse: (input: unknown) => unknown) => (input: unknown) => {
    try {
      parse(input);
    } catch (error) {
      if (!(error instanceof HordeError)) throw error;
    }
  };
  const paramKeys = ['steps', 'n', 'width', 'cfg_scale', 'control_type', 'loras', 'tis', 'post_processing'];
  const textKeys = ['max_length', 'max_context_length', 'sampler_order', 'stop_sequence'];
  const key = fc.oneof(fc.constantFrom(...paramKeys, ...textKeys), fc.string());
  const body = fc.record(
    {
      prompt: fc.oneof(fc.string(), fc.jsonValue()),
      name: fc.oneof(fc.string(), fc.jsonValue()),
      models: fc.oneof(
        fc.array(fc.oneof(fc.constantFrom(...Object.keys(BASELINES)), fc.string())),
        fc.jsonValue(),
      ),
      params: fc.dictionary(key, fc.jsonValue()),
      source_image: fc.string(),
      source_processing: fc.constantFrom('img2img', 'inpainting', 'outpainting', 'remix'),
      extra_source_images: fc.jsonValue(),
      id: fc.string(),
      generation: fc.string(),
      seed: fc.oneof(fc.integer(), fc.jsonValue()),
    },
    { requiredKeys: [] },
  );

  it.each(parsers)('%s', (_name, parse) => {
    fc.assert(fc.property(fc.jsonValue(), onlyHordeErrors(parse)), { numRuns: 300 });
    fc.assert(fc.property(body, onlyHordeErrors(parse)), { numRuns: 500 });
    fc.assert(fc.property(fc.anything(), onlyHordeErrors(parse)), { numRuns: 200 });
  });

  it('turns hostile objects into BadRequest', () => {
    const hostile = new Proxy(
      {},
      {
        ownKeys: () => {
          throw new Error('boom');
        },
      },
    );
    expectRc(() => parseImageRequest(hostile, ctx()), 'BadRequest');
    const getter = Object.defineProperty({}, 'prompt', {
      enumerable: true,
      get: () => {
        throw new Error('boom');
      },
    });
    expectRc(() => parseTextRequest(getter, ctx()), 'BadRequest');
    expect(() => parseWith(ImageGenerateSchema, { prompt: 'x' })).not.toThrow();
  });
});
