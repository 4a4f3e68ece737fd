import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HordeApi, ImagePopAnswer, TextPopAnswer } from './horde-api.js';
import { parseSeed, splitPrompt, toImageJob, toTextJob } from './payload.js';
import { imageJob, textJob } from './testing/jobs.js';

const SOURCE_BYTES = Buffer.from('source image bytes');
const MASK_BYTES = Buffer.from('mask image bytes');

/** Serves `/source.png` and `/mask.png` on loopback; anything else is a 404. */
let server: Server;
let origin: string;
const requested: string[] = [];
beforeAll(async () => {
  server = createServer((request, response) => {
    requested.push(request.url ?? '');
    const body = { '/source.png': SOURCE_BYTES, '/mask.png': MASK_BYTES }[request.url ?? ''];
    if (body) response.writeHead(200, { 'content-type': 'image/png' }).end(body);
    else response.writeHead(404).end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

/** The worker downloads sources through the horde client; the same here, against the loopback server. */
const api = new HordeApi({ url: 'http://127.0.0.1:1', apiKey: 'k', clientAgent: 'payload-test' });
const download = (url: string) => api.download(url);
const noDownload = async (url: string): Promise<Buffer> => {
  throw new Error(`unexpected download of ${url}`);
};

function imagePop(fields: Record<string, unknown>) {
  return ImagePopAnswer.parse({ ids: ['job-1'], model: 'stable_diffusion', skipped: {}, ...fields });
}

describe('splitPrompt', () => {
  it('splits at ` ### ` and trims both sides', () => {
    expect(splitPrompt('  a red fox ### blurry, lowres  ')).toEqual({
      prompt: 'a red fox',
      negativePrompt: 'blurry, lowres',
    });
  });

  it('keeps the whole (trimmed) prompt when there is no separator', () => {
    expect(splitPrompt(' a red fox # not a separator ')).toEqual({
      prompt: 'a red fox # not a separator',
      negativePrompt: '',
    });
    expect(splitPrompt('')).toEqual({ prompt: '', negativePrompt: '' });
  });

  it('splits at the first of several separators; the rest stay in the negative prompt', () => {
    expect(splitPrompt('fox ### blurry ### lowres')).toEqual({
      prompt: 'fox',
      negativePrompt: 'blurry ### lowres',
    });
  });

  it('accepts the separator without spaces around it', () => {
    expect(splitPrompt('fox###blurry')).toEqual({ prompt: 'fox', negativePrompt: 'blurry' });
  });
});

describe('parseSeed', () => {
  it('uses integer strings as they are', () => {
    expect(parseSeed('42')).toBe(42);
    expect(parseSeed(' 1234 ')).toBe(1234);
    expect(parseSeed('0')).toBe(0);
    expect(parseSeed('4294967295')).toBe(4_294_967_295);
  });

  it('takes huge integers modulo 2^32', () => {
    expect(parseSeed('4294967296')).toBe(0);
    expect(parseSeed('4294967297')).toBe(1);
    const huge = '123456789012345678901234567890';
    expect(parseSeed(huge)).toBe(Number(BigInt(huge) % 2n ** 32n));
  });

  it('takes integer numbers modulo 2^32 too', () => {
    expect(parseSeed(7)).toBe(7);
    expect(parseSeed(2 ** 32 + 5)).toBe(5);
    expect(parseSeed(-1)).toBe(4_294_967_295);
  });

  it('gives a negative integer the same seed whether it comes as a number or as text', () => {
    expect(parseSeed('-5')).toBe(parseSeed(-5));
    expect(parseSeed('-1')).toBe(4_294_967_295);
  });

  it('hashes any other text deterministically into 32 bits', () => {
    const seeds = ['cat', 'dog', '-5x', '3.5', '12abc'].map((text) => parseSeed(text));
    for (const seed of seeds) {
      expect(Number.isInteger(seed)).toBe(true);
      expect(seed).toBeGreaterThanOrEqual(0);
      expect(seed).toBeLessThan(2 ** 32);
    }
    expect(new Set(seeds).size).toBe(seeds.length);
    expect(parseSeed('cat')).toBe(seeds[0]);
    // Surrounding blanks do not change the seed.
    expect(parseSeed('  cat ')).toBe(seeds[0]);
  });

  it('picks a random seed in range when there is none', () => {
    const seeds = [undefined, null, '', '   ', 1.5, {}, ...Array(20).fill(undefined)].map((raw) =>
      parseSeed(raw),
    );
    for (const seed of seeds) {
      expect(Number.isInteger(seed)).toBe(true);
      expect(seed).toBeGreaterThanOrEqual(0);
      expect(seed).toBeLessThan(2 ** 32);
    }
    expect(new Set(seeds).size).toBeGreaterThan(1);
  });
});

describe('toImageJob', () => {
  it('maps the horde payload onto an ImageJob', async () => {
    const answer = imagePop({
      ids: ['job-a', 'job-b'],
      payload: {
        prompt: 'a lighthouse ### fog',
        width: 768,
        height: 512,
        ddim_steps: 25,
        cfg_scale: 6,
        sampler_name: 'k_dpmpp_2m',
        seed: '99',
        n_iter: 2,
        clip_skip: 2,
        tiling: true,
        hires_fix: true,
        hires_fix_denoising_strength: 0.5,
        post_processing: ['RealESRGAN_x4plus', 42, 'GFPGAN'],
        facefixer_strength: 0.3,
      },
    });
    const { job, metadata } = await toImageJob(answer, noDownload);
    expect(metadata).toEqual([]);
    expect(job).toEqual(
      imageJob({
        id: 'job-a',
        prompt: 'a lighthouse',
        negativePrompt: 'fog',
        width: 768,
        steps: 25,
        cfgScale: 6,
        sampler: 'k_dpmpp_2m',
        seed: 99,
        count: 2,
        clipSkip: 2,
        tiling: true,
        hiresFix: true,
        hiresFixDenoisingStrength: 0.5,
        postProcessing: ['RealESRGAN_x4plus', 'GFPGAN'],
        facefixerStrength: 0.3,
      }),
    );
  });

  it('fills defaults for an almost empty payload', async () => {
    const { job } = await toImageJob(imagePop({ payload: { prompt: 'fox', seed: '1' } }), noDownload);
    // The fixture job is the horde's defaults too, but for 30 steps and cfg 7.5.
    expect(job).toEqual(imageJob({ prompt: 'fox', steps: 30, cfgScale: 7.5 }));
    expect(job.hiresFixDenoisingStrength).toBeUndefined();
    expect(job.facefixerStrength).toBeUndefined();
    expect(job.source).toBeUndefined();
  });

  it('counts images by ids, falling back to n_iter when no ids came', async () => {
    const threeIds = imagePop({ ids: ['a', 'b', 'c'], payload: { n_iter: 1 } });
    expect((await toImageJob(threeIds, noDownload)).job.count).toBe(3);

    const noIds = imagePop({ ids: [], id: 'single', payload: { n_iter: 4 } });
    const { job } = await toImageJob(noIds, noDownload);
    expect(job.count).toBe(4);
    expect(job.id).toBe('single');
  });

  it('bounds sizes, steps and the batch as the horde does, whatever another horde sends', async () => {
    const odd = imagePop({
      ids: [],
      payload: { prompt: 'x', width: 99_999, height: 1, ddim_steps: 10_000, n_iter: 50 },
    });
    const { job } = await toImageJob(odd, noDownload);
    expect([job.width, job.height, job.steps, job.count]).toEqual([3072, 64, 500, 20]);
  });

  it('reads `steps` when there is no ddim_steps, and numeric strings', async () => {
    const { job } = await toImageJob(
      imagePop({ payload: { steps: 12, width: '640', height: '384' } }),
      noDownload,
    );
    expect(job).toMatchObject({ steps: 12, width: 640, height: 384 });
  });

  it('turns karras off only when the payload says false', async () => {
    const off = await toImageJob(imagePop({ payload: { karras: false } }), noDownload);
    expect(off.job.karras).toBe(false);
    const on = await toImageJob(imagePop({ payload: { karras: true } }), noDownload);
    expect(on.job.karras).toBe(true);
  });

  it('maps LoRAs: clip strength defaults to the model strength; nameless entries are dropped', async () => {
    const { job } = await toImageJob(
      imagePop({
        payload: {
          loras: [
            { name: 'GlowingRunesAI', model: 0.8 },
            { name: '76312', model: 1, clip: 0.5, is_version: true },
            { name: 'plain' },
            { model: 1 },
            'not-an-object',
            null,
          ],
        },
      }),
      noDownload,
    );
    expect(job.loras).toEqual([
      { name: 'GlowingRunesAI', model: 0.8, clip: 0.8, isVersion: false },
      { name: '76312', model: 1, clip: 0.5, isVersion: true },
      { name: 'plain', model: 1, clip: 1, isVersion: false },
    ]);
  });

  it('decodes a base64 source image and mask (a data: URL too)', async () => {
    const { job, metadata } = await toImageJob(
      imagePop({
        payload: { prompt: 'fox', denoising_strength: 0.4 },
        source_image: SOURCE_BYTES.toString('base64'),
        source_mask: `data:image/png;base64,${MASK_BYTES.toString('base64')}`,
        source_processing: 'inpainting',
      }),
      noDownload,
    );
    expect(metadata).toEqual([]);
    expect(job.source?.processing).toBe('inpainting');
    expect(job.source?.image.equals(SOURCE_BYTES)).toBe(true);
    expect(job.source?.mask?.equals(MASK_BYTES)).toBe(true);
    expect(job.denoisingStrength).toBe(0.4);
  });

  it('defaults to img2img with denoising 0.75 for an unknown processing', async () => {
    const { job } = await toImageJob(
      imagePop({ source_image: SOURCE_BYTES.toString('base64'), source_processing: 'sketch' }),
      noDownload,
    );
    expect(job.source?.processing).toBe('img2img');
    expect(job.source?.mask).toBeUndefined();
    expect(job.denoisingStrength).toBe(0.75);
  });

  it('downloads a source image and mask given as URLs', async () => {
    const { job, metadata } = await toImageJob(
      imagePop({
        source_image: `${origin}/source.png`,
        source_mask: `${origin}/mask.png`,
        source_processing: 'outpainting',
      }),
      download,
    );
    expect(metadata).toEqual([]);
    expect(job.source?.image.equals(SOURCE_BYTES)).toBe(true);
    expect(job.source?.mask?.equals(MASK_BYTES)).toBe(true);
    expect(job.source?.processing).toBe('outpainting');
    expect(requested).toEqual(expect.arrayContaining(['/source.png', '/mask.png']));
  });

  it('runs without the source when it cannot be downloaded, and says so in gen_metadata', async () => {
    const { job, metadata } = await toImageJob(
      imagePop({
        payload: { prompt: 'fox', denoising_strength: 0.4 },
        source_image: `${origin}/gone.png`,
        source_processing: 'img2img',
      }),
      download,
    );
    expect(metadata).toEqual([{ type: 'source_image', value: 'download_failed' }]);
    expect(job.source).toBeUndefined();
    expect(job.denoisingStrength).toBeUndefined();
    expect(job.prompt).toBe('fox');
  });

  it('keeps the source but reports a mask that cannot be downloaded', async () => {
    const { job, metadata } = await toImageJob(
      imagePop({
        source_image: `${origin}/source.png`,
        source_mask: `${origin}/gone-mask.png`,
        source_processing: 'inpainting',
      }),
      download,
    );
    expect(metadata).toEqual([{ type: 'source_mask', value: 'download_failed' }]);
    expect(job.source?.image.equals(SOURCE_BYTES)).toBe(true);
    expect(job.source?.mask).toBeUndefined();
  });

  it('reports an empty base64 source as a failed download', async () => {
    const { job, metadata } = await toImageJob(imagePop({ source_image: '=' }), noDownload);
    expect(metadata).toEqual([{ type: 'source_image', value: 'download_failed' }]);
    expect(job.source).toBeUndefined();
  });
});

describe('toTextJob', () => {
  const limits = { maxLength: 200, maxContextLength: 2048 };

  function textPop(fields: Record<string, unknown>) {
    return TextPopAnswer.parse({ ids: ['text-1'], model: 'koboldcpp/Llama', skipped: {}, ...fields });
  }

  it('clamps lengths to the worker limits', () => {
    const job = toTextJob(
      textPop({ payload: { prompt: 'Once', max_length: 500, max_context_length: 8192 } }),
      limits,
    );
    expect(job.maxLength).toBe(200);
    expect(job.maxContextLength).toBe(2048);
  });

  it('never asks the backend for fewer than one token, whatever the payload says', () => {
    const job = toTextJob(
      textPop({ payload: { prompt: 'Once', max_length: 0, max_context_length: -5 } }),
      limits,
    );
    expect([job.maxLength, job.maxContextLength]).toEqual([1, 1]);
  });

  it('keeps lengths under the limits, and reads numeric strings', () => {
    const job = toTextJob(
      textPop({ payload: { prompt: 'Once', max_length: '120', max_context_length: 1500 } }),
      limits,
    );
    expect(job.maxLength).toBe(120);
    expect(job.maxContextLength).toBe(1500);
  });

  it('defaults to 80 / 1024, still within the limits', () => {
    expect(toTextJob(textPop({ payload: { prompt: 'Once' } }), limits)).toMatchObject({
      maxLength: 80,
      maxContextLength: 1024,
    });
    expect(toTextJob(textPop({ payload: {} }), { maxLength: 50, maxContextLength: 512 })).toMatchObject({
      maxLength: 50,
      maxContextLength: 512,
    });
  });

  it('passes the other payload fields through as params', () => {
    const job = toTextJob(
      textPop({
        payload: {
          prompt: 'Once upon a time',
          max_length: 100,
          max_context_length: 1024,
          temperature: 0.7,
          stop_sequence: ['\n\n'],
          sampler_order: [6, 0, 1],
        },
      }),
      limits,
    );
    expect(job).toEqual(
      textJob({
        id: 'text-1',
        model: 'koboldcpp/Llama',
        maxLength: 100,
        params: { temperature: 0.7, stop_sequence: ['\n\n'], sampler_order: [6, 0, 1] },
      }),
    );
  });

  it('survives a missing payload or a non-string prompt', () => {
    const empty = toTextJob(textPop({ ids: [], id: 'legacy', model: null }), limits);
    expect(empty).toEqual(textJob({ id: 'legacy', model: '', prompt: '' }));
    expect(toTextJob(textPop({ payload: { prompt: 42 } }), limits).prompt).toBe('');
  });
});
