import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../config.js';
import {
  CONTROL_TYPES,
  type ImageGenerateBody,
  type ImageGenerateInput,
  ImageGenerateSchema,
  POST_PROCESSORS,
  SAMPLERS,
  SOURCE_PROCESSING,
} from '../requests/schemas.js';
import { roundKudos } from './money.js';
import {
  accurateSteps,
  imageActivationTax,
  imageCensoredCost,
  imageDryRun,
  imageJobCost,
  imageJobKudos,
  imagePriceTerms,
  imageThings,
} from './pricing-image.js';
import { imageWorkerReward } from './rewards.js';

const pricing = DEFAULT_CONFIG.pricing;
const image = (params: ImageGenerateInput['params'], extra: Partial<ImageGenerateInput> = {}) =>
  ImageGenerateSchema.parse({ prompt: 'a lighthouse at dusk', ...extra, params });
const SOURCE = { source_image: 'aGVsbG8=' };

// Spec §2.1's reference table. `fitted: false` rows have post-processors: not part of the fit or the ±25 % rule.
// biome-ignore format: one line per row of the spec's table
const REFERENCE_ROWS: { label: string; body: ImageGenerateBody; upstream: number; fitted: boolean }[] = [
  { label: 'BASIS: 512², 50 steps, `k_euler`, cfg 7.5', body: image({ steps: 50, sampler_name: 'k_euler', cfg_scale: 7.5 }), upstream: 11, fitted: true },
  { label: '1024², 50 steps, else basis', body: image({ width: 1024, height: 1024, steps: 50, sampler_name: 'k_euler', cfg_scale: 7.5 }), upstream: 29.03, fitted: true },
  { label: '768×512, 30 steps, cfg 8.5, img2img, canny 0.72, denoise 0.42, `k_dpmpp_2m`', body: image({ width: 768, height: 512, steps: 30, cfg_scale: 8.5, sampler_name: 'k_dpmpp_2m', control_type: 'canny', control_strength: 0.72, denoising_strength: 0.42 }, SOURCE), upstream: 15.13, fitted: true },
  { label: '512², 35 steps, GFPGAN + RealESRGAN_x4plus (upstream: `uni_pc`)', body: image({ steps: 35, post_processing: ['GFPGAN', 'RealESRGAN_x4plus'] }), upstream: 25.46, fitted: false },
  { label: '512², 30 steps, `k_euler_a`, cfg 5 (defaults)', body: image({ steps: 30 }), upstream: 7.61, fitted: true },
  { label: '768², 30 steps', body: image({ width: 768, height: 768, steps: 30 }), upstream: 11.75, fitted: true },
  { label: '1024², 30 steps', body: image({ width: 1024, height: 1024, steps: 30 }), upstream: 20.99, fitted: true },
  { label: '1024², 8 steps, cfg 1.5', body: image({ width: 1024, height: 1024, steps: 8, cfg_scale: 1.5 }), upstream: 12.11, fitted: true },
  { label: '512², 30 steps, `k_dpmpp_sde`', body: image({ steps: 30, sampler_name: 'k_dpmpp_sde' }), upstream: 12.93, fitted: true },
  { label: '512², 30 steps, hires fix', body: image({ steps: 30, hires_fix: true }), upstream: 12.31, fitted: true },
  { label: '512², 30 steps, RealESRGAN_x4plus', body: image({ steps: 30, post_processing: ['RealESRGAN_x4plus'] }), upstream: 10.28, fitted: false },
  { label: '512², 20 steps, img2img + canny', body: image({ steps: 20, control_type: 'canny' }, SOURCE), upstream: 12.91, fitted: true },
  { label: '512², 30 steps, img2img, denoise 0.75', body: image({ steps: 30, denoising_strength: 0.75 }, SOURCE), upstream: 7.25, fitted: true },
];

// docs/kudos.md's worked examples: body and the multiplier of the model family used.
// biome-ignore format: one line per row of the doc's table
const EXAMPLES: { label: string; body: ImageGenerateBody; multiplier: number }[] = [
  { label: 'SD1.5, 512², 30 steps (the defaults)', body: image({}), multiplier: 1 },
  { label: 'same, n=4', body: image({ n: 4 }), multiplier: 1 },
  { label: 'SDXL, 1024², 30 steps', body: image({ width: 1024, height: 1024 }), multiplier: 2 },
  { label: 'Flux.1, 1024², 8 steps, cfg 1', body: image({ width: 1024, height: 1024, steps: 8, cfg_scale: 1 }), multiplier: 8 },
  { label: 'SD1.5, `k_dpmpp_sde`', body: image({ sampler_name: 'k_dpmpp_sde' }), multiplier: 1 },
  { label: 'SD1.5, img2img, denoise 0.75', body: image({ denoising_strength: 0.75 }, SOURCE), multiplier: 1 },
  { label: 'SD1.5, hires fix', body: image({ hires_fix: true }), multiplier: 1 },
  { label: 'SD1.5, ControlNet canny, 20 steps', body: image({ steps: 20, control_type: 'canny' }, SOURCE), multiplier: 1 },
  { label: 'SD1.5, 2 LoRAs', body: image({ loras: [{ name: '12345' }, { name: '67890' }] }), multiplier: 1 },
  { label: 'SD1.5, RealESRGAN_x4plus', body: image({ post_processing: ['RealESRGAN_x4plus'] }), multiplier: 1 },
  { label: 'SD1.5, `slow_workers: false`', body: image({}, { slow_workers: false }), multiplier: 1 },
];

const money = (kudos: number) => kudos.toFixed(2);
function percent(ours: number, upstream: number): string {
  const diff = Math.round((ours / upstream - 1) * 1000) / 10;
  return `${diff > 0 ? '+' : ''}${diff.toFixed(1)} %`;
}

const priced = REFERENCE_ROWS.map((r) => {
  const ours = imageJobKudos(r.body, pricing);
  return { ...r, ours, diff: percent(ours, r.upstream) };
});

describe('imageJobKudos against spec §2.1 (our formula, not upstream MLP)', () => {
  it.each(priced.filter((r) => r.fitted))('$label: $ours vs $upstream ($diff)', ({ ours, upstream }) => {
    expect(Math.abs(ours / upstream - 1)).toBeLessThanOrEqual(0.25);
  });

  it('prices the RealESRGAN_x4plus row near upstream although it was not fitted', () => {
    const x4 = priced.find((r) => r.label.startsWith('512², 30 steps, RealESRGAN'))!;
    expect(Math.abs(x4.ours / x4.upstream - 1)).toBeLessThan(0.05);
  });
});

describe('imageJobKudos terms', () => {
  const base = image({});
  const kudos = (body: ImageGenerateBody) => imageJobKudos(body, pricing);

  it('counts accurate steps: second-order samplers double, k_dpm_adaptive is 40', () => {
    expect(accurateSteps(image({ steps: 25, sampler_name: 'k_heun' }))).toBe(50);
    expect(accurateSteps(image({ steps: 25, sampler_name: 'k_dpm_adaptive' }))).toBe(40);
    expect(accurateSteps(image({ steps: 25 }))).toBe(25);
    expect(accurateSteps(base)).toBe(30); // unvalidated body: steps undefined
    expect(imageThings(image({ width: 1024, height: 512, steps: 20, sampler_name: 'k_dpmpp_sde' }))).toBe(
      1024 * 512 * 40,
    );
  });

  it('adds perLora per LoRA and anyTextualInversion once', () => {
    const loras = image({ loras: [{ name: '1' }, { name: '2' }] });
    const tis = image({ tis: [{ name: 'a' }, { name: 'b' }] });
    expect(roundKudos(kudos(loras) - kudos(base))).toBe(2 * pricing.perLora);
    expect(roundKudos(kudos(tis) - kudos(base))).toBe(pricing.anyTextualInversion);
  });

  it('scales img2img with denoising, and ignores denoising with a ControlNet', () => {
    const low = kudos(image({ denoising_strength: 0.3 }, SOURCE));
    const high = kudos(image({ denoising_strength: 0.9 }, SOURCE));
    expect(low).toBeLessThan(high);
    const cnLow = imagePriceTerms(
      image({ control_type: 'canny', control_strength: 1, denoising_strength: 0.3 }, SOURCE),
      pricing,
    );
    const cnHigh = imagePriceTerms(
      image({ control_type: 'canny', control_strength: 1, denoising_strength: 0.9 }, SOURCE),
      pricing,
    );
    expect(cnLow.sampling).toBe(cnHigh.sampling);
  });

  it('scales ControlNet with its strength', () => {
    const weak = imagePriceTerms(image({ control_type: 'depth', control_strength: 0.25 }, SOURCE), pricing);
    const full = imagePriceTerms(image({ control_type: 'depth' }, SOURCE), pricing);
    expect(weak.controlnet).toBeCloseTo(full.controlnet / 4, 10);
  });

  it('charges a mask, a hires-fix pass, and post-processors by weight', () => {
    const masked = imagePriceTerms(
      image({}, { ...SOURCE, source_mask: 'bWFzaw==', source_processing: 'inpainting' }),
      pricing,
    );
    expect(masked.mask).toBeGreaterThan(0);
    expect(kudos(image({ hires_fix: true, hires_fix_denoising_strength: 0.3 }))).toBeLessThan(
      kudos(image({ hires_fix: true })),
    );
    const pp = (name: ImageGenerateInput['params']) => imagePriceTerms(image(name), pricing).postProcessing;
    const x4 = pp({ post_processing: ['RealESRGAN_x4plus'] });
    const x2 = pp({ post_processing: ['RealESRGAN_x2plus'] });
    const face = pp({ post_processing: ['GFPGAN'] });
    const strip = pp({ post_processing: ['strip_background'] });
    expect(x4).toBeCloseTo(4 * x2, 10);
    expect(x2).toBeGreaterThan(face);
    expect(face).toBeGreaterThan(strip);
    expect(pp({ width: 1024, height: 1024, post_processing: ['RealESRGAN_x4plus'] })).toBeCloseTo(4 * x4, 10);
  });
});

describe('imageJobKudos is monotonic', () => {
  const side = fc.integer({ min: 1, max: 48 }).map((k) => k * 64);
  const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
  const strength = fc.double({ min: 0.01, max: 1, noNaN: true });
  const bodyArb = fc
    .record({
      width: side,
      height: side,
      steps: fc.integer({ min: 1, max: 500 }),
      sampler_name: fc.constantFrom(...SAMPLERS),
      hires_fix: fc.boolean(),
      hires_fix_denoising_strength: maybe(strength),
      denoising_strength: maybe(strength),
      control_type: maybe(fc.constantFrom(...CONTROL_TYPES)),
      control_strength: maybe(fc.double({ min: 0, max: 1, noNaN: true })),
      post_processing: fc.subarray([...POST_PROCESSORS]),
      loras: fc.array(fc.constant({ name: '1' }), { maxLength: 5 }),
      tis: fc.array(fc.constant({ name: 'ti' }), { maxLength: 3 }),
      source: fc.boolean(),
      mask: fc.boolean(),
      source_processing: fc.constantFrom(...SOURCE_PROCESSING),
    })
    .map(({ source, mask, source_processing, ...params }) => ({
      params,
      extra: {
        source_processing,
        ...(source ? SOURCE : {}),
        ...(source && mask ? { source_mask: 'bWFzaw==' } : {}),
      },
    }));
  const price = (b: { params: ImageGenerateInput['params']; extra: Partial<ImageGenerateInput> }) =>
    imageJobKudos(image(b.params, b.extra), pricing);

  it('never gets cheaper with more pixels', () => {
    fc.assert(
      fc.property(bodyArb, fc.integer({ min: 1, max: 47 }), fc.boolean(), (b, grow, wide) => {
        const key = wide ? 'width' : 'height';
        const bigger = Math.min((b.params[key] ?? 512) + grow * 64, 3072);
        expect(price({ ...b, params: { ...b.params, [key]: bigger } })).toBeGreaterThanOrEqual(price(b));
      }),
    );
  });

  it('never gets cheaper with more steps', () => {
    fc.assert(
      fc.property(bodyArb, fc.integer({ min: 1, max: 499 }), (b, grow) => {
        const more = Math.min((b.params.steps ?? 30) + grow, 500);
        expect(price({ ...b, params: { ...b.params, steps: more } })).toBeGreaterThanOrEqual(price(b));
      }),
    );
  });
});

// biome-ignore format: one line per row of the spec's table
const SPEC_EXAMPLES = [
  { label: 'SD1.5 512²', body: image({}), kudos: 7.61, m: 1, reward: 7.61, perJob: 8.61, total: 11.61, dryRun: 10 },
  { label: 'same, n=4', body: image({ n: 4 }), kudos: 7.61, m: 1, reward: 7.61, perJob: 8.61, total: 37.44, dryRun: 35 },
  { label: 'SDXL 1024²', body: image({ width: 1024, height: 1024 }), kudos: 20.57, m: 2, reward: 41.14, perJob: 42.14, total: 45.14, dryRun: 44 },
  { label: 'Flux 1024² 8 st', body: image({ width: 1024, height: 1024, steps: 8, cfg_scale: 1 }), kudos: 11.6, m: 8, reward: 92.8, perJob: 93.8, total: 96.8, dryRun: 102 },
  { label: '2 LoRAs', body: image({ loras: [{ name: '1' }, { name: '2' }] }), kudos: 13.61, m: 1, reward: 13.61, perJob: 14.61, total: 17.61, dryRun: 16 },
  { label: 'RealESRGAN_x4plus', body: image({ post_processing: ['RealESRGAN_x4plus'] }), kudos: 10.42, m: 1, reward: 10.42, perJob: 11.94, total: 14.94, dryRun: 13 },
  { label: 'slow_workers:false', body: image({}, { slow_workers: false }), kudos: 7.61, m: 1, reward: 7.61, perJob: 10.33, total: 13.33, dryRun: 11 },
];

describe('what the requester pays (spec §2.2 worked examples, with upstream job kudos as input)', () => {
  it.each(SPEC_EXAMPLES)(
    '$label: $perJob per job, $total in all, dry run $dryRun',
    ({ body, kudos, m, reward, perJob, total, dryRun }) => {
      const activation = imageActivationTax(body, pricing);
      expect(activation).toBe(3);
      expect(imageWorkerReward(kudos, m)).toBe(reward);
      expect(imageJobCost(kudos, m, body, pricing)).toBe(perJob);
      expect(roundKudos(activation + body.params.n * imageJobCost(kudos, m, body, pricing))).toBe(total);
      expect(imageDryRun(body, kudos, m, pricing)).toBe(dryRun);
    },
  );

  it('charges ×1.3 with a source image, ×1.1 with a deny-list, 5 per extra source image', () => {
    expect(imageJobCost(10, 1, image({}, SOURCE), pricing)).toBe(14);
    expect(imageJobCost(10, 1, image({}, { worker_blacklist: true, workers: ['w'] }), pricing)).toBe(12.1);
    const extra = image(
      {},
      { ...SOURCE, source_processing: 'remix', extra_source_images: [{ image: 'a' }, { image: 'b' }] },
    );
    expect(imageActivationTax(extra, pricing)).toBe(13);
  });

  it('charges a censored job only the burn, with the request-wide factors', () => {
    expect(imageCensoredCost(image({}), pricing)).toBe(1);
    expect(imageCensoredCost(image({}, { slow_workers: false, worker_blacklist: true }), pricing)).toBe(1.32);
  });
});

describe('docs/kudos.md agrees with the code', () => {
  // Biome pads markdown tables, so compare cells rather than lines.
  const rows = readFileSync(new URL('../../../../docs/kudos.md', import.meta.url), 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .map((line) =>
      line
        .trim()
        .slice(1, -1)
        .split('|')
        .map((cell) => cell.trim()),
    );

  it.each(priced)('reference row: $label', (r) => {
    expect(rows).toContainEqual([r.label, money(r.upstream), money(r.ours), r.diff]);
  });

  it.each(EXAMPLES)('worked example: $label', ({ label, body, multiplier }) => {
    const kudos = imageJobKudos(body, pricing);
    const perJob = imageJobCost(kudos, multiplier, body, pricing);
    const activation = imageActivationTax(body, pricing);
    const total = activation + perJob * body.params.n;
    const reward = imageWorkerReward(kudos, multiplier);
    const dryRun = String(imageDryRun(body, kudos, multiplier, pricing));
    const cells = [
      label,
      String(body.params.n),
      money(kudos),
      `×${multiplier}`,
      money(reward),
      money(perJob),
    ];
    expect(rows).toContainEqual([...cells, money(activation), money(total), dryRun]);
  });

  it.each(EXAMPLES)('price breakdown: $label', ({ label, body }) => {
    const t = imagePriceTerms(body, pricing);
    const terms = [
      t.overhead,
      t.sampling,
      t.sourceImage + t.mask,
      t.hiresFix,
      t.controlnet,
      t.postProcessing,
    ];
    const cells = [label, ...terms.map(money), money(t.loras + t.textualInversions)];
    expect(rows).toContainEqual([...cells, money(imageJobKudos(body, pricing))]);
  });
});
