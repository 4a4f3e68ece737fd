/**
 * `/style`: a plugin written outside @hordekit/adapters, against its public API only. It turns a prompt
 * into a request in one of a few preset styles (a prompt template, a negative prompt, steps, guidance and
 * size), draws it the way /draw does — one progress message, then the picture — and puts a row of the
 * other styles under the result, to draw the same prompt again in another one.
 */
import {
  type BaseContext,
  type Button,
  defineCommand,
  definePlugin,
  type OutgoingMessage,
  UserError,
} from '@hordekit/adapters';
import type { ImageGenerateInput, RequestEvent } from '@hordekit/core';

export interface StylePreset {
  /** The `preset` option's value: lower-case letters, digits and `-`. */
  name: string;
  /** What people see: the option's choice and the button. */
  label: string;
  /** The prompt sent to the horde; `{p}` is replaced by the person's prompt. */
  template: string;
  /** What to keep out of the picture. */
  negative: string;
  steps: number;
  cfgScale: number;
  width: number;
  height: number;
}

/** Within the horde's free tier (at most 40 steps, about 1 megapixel), so nobody needs kudos upfront. */
export const PRESETS: readonly StylePreset[] = [
  {
    name: 'watercolor',
    label: 'Watercolor',
    template: '{p}, watercolor painting, soft washes of colour, visible paper texture, loose brushwork',
    negative: 'photo, 3d render, harsh outlines, text, watermark',
    steps: 25,
    cfgScale: 6,
    width: 512,
    height: 512,
  },
  {
    name: 'pixel-art',
    label: 'Pixel art',
    template: '{p}, pixel art, 16-bit game sprite style, limited palette, crisp square pixels',
    negative: 'blurry, smooth gradients, photo, anti-aliasing, text, watermark',
    steps: 20,
    cfgScale: 7,
    width: 512,
    height: 512,
  },
  {
    name: 'cinematic',
    label: 'Cinematic',
    template: '{p}, cinematic film still, dramatic lighting, shallow depth of field, 35mm film grain',
    negative: 'cartoon, drawing, oversaturated, flat lighting, text, watermark',
    steps: 30,
    cfgScale: 5,
    width: 768,
    height: 512,
  },
  {
    name: 'line-art',
    label: 'Line art',
    template: '{p}, clean line art, black ink on white paper, fine even strokes, no shading',
    negative: 'colour, shading, gradient, photo, text, watermark',
    steps: 20,
    cfgScale: 7,
    width: 512,
    height: 512,
  },
  {
    name: 'anime',
    label: 'Anime',
    template: '{p}, anime style illustration, cel shading, vibrant colours, expressive eyes',
    negative: 'photo, realistic, 3d render, deformed hands, text, watermark',
    steps: 25,
    cfgScale: 7,
    width: 512,
    height: 768,
  },
  {
    name: 'oil-painting',
    label: 'Oil painting',
    template: '{p}, oil painting on canvas, thick impasto brushstrokes, rich warm colours',
    negative: 'photo, digital art, flat colours, text, watermark',
    steps: 30,
    cfgScale: 6,
    width: 512,
    height: 640,
  },
];

export interface StylePluginOptions {
  /** The styles on offer; the first is the default. @default PRESETS */
  presets?: readonly StylePreset[];
  /** Longest a drawing may wait for its picture before it is cancelled. @default 1200000 (20 minutes) */
  timeoutMs?: number;
}

/** The horde request for `prompt` in `preset`: the template filled in, the preset's parameters. */
export function applyPreset(preset: StylePreset, prompt: string, nsfw: boolean): ImageGenerateInput {
  return {
    prompt: `${preset.template.replaceAll('{p}', prompt)} ### ${preset.negative}`,
    models: [],
    nsfw,
    censor_nsfw: !nsfw,
    r2: true,
    params: {
      steps: preset.steps,
      cfg_scale: preset.cfgScale,
      width: preset.width,
      height: preset.height,
      n: 1,
    },
  };
}

/** What the plugin remembers of a picture, for its buttons. */
interface Drawn {
  prompt: string;
  nsfw: boolean;
}

const FINAL = new Set<RequestEvent['type']>(['done', 'faulted', 'cancelled', 'expired']);
const ENDINGS: Record<string, string> = {
  faulted: 'it failed on every worker that tried it',
  cancelled: 'cancelled',
  expired: 'expired: no worker took it in time',
  timeout: 'it took too long and was cancelled',
};

export function stylePlugin(options: StylePluginOptions = {}) {
  const presets = options.presets ?? PRESETS;
  const [fallback] = presets;
  if (!fallback) throw new Error('stylePlugin: give at least one preset');
  const timeoutMs = options.timeoutMs ?? 20 * 60_000;
  const drawn = new Map<string, Drawn>();
  const remember = (id: string, what: Drawn) => {
    drawn.set(id, what);
    if (drawn.size > 5000) drawn.delete(drawn.keys().next().value as string);
  };

  const style = defineCommand({
    name: 'style',
    description: 'Draw a prompt in a preset style',
    // The built-in middleware: cooldown and concurrent-request cap, banned words and the NSFW gate.
    limited: true,
    promptOption: 'prompt',
    options: {
      prompt: { type: 'string', description: 'What to draw', required: true, maxLength: 500 },
      preset: {
        type: 'choice',
        description: `The style (default: ${fallback.label})`,
        choices: presets.map((preset) => ({ name: preset.label, value: preset.name })),
      },
    },
    async handler(context) {
      const preset = presets.find((candidate) => candidate.name === context.options.preset) ?? fallback;
      await draw(context, preset, { prompt: context.options.prompt, nsfw: context.state.nsfw === true });
    },
  });

  async function draw(context: BaseContext, preset: StylePreset, what: Drawn): Promise<void> {
    const { client } = context.horde;
    const input = applyPreset(preset, what.prompt, what.nsfw);
    const steps = input.params?.steps ?? 0;
    if (steps > context.settings.maxSteps) {
      throw new UserError(
        `${preset.label} needs ${steps} steps; this place allows ${context.settings.maxSteps}.`,
      );
    }
    if (context.settings.defaultModel) input.models = [context.settings.defaultModel];

    const account = await context.account();
    const accepted = await client.generateImage(account.credentials, input);
    if (!accepted.id) throw new UserError('The horde did not queue the request. Please try again.');
    const id = accepted.id;
    remember(id, what);
    const heading = `${preset.label}: “${what.prompt}”`;
    const progress = await context.progress(`${heading} — queued.`);

    let final: RequestEvent | undefined;
    let drawing = false;
    for await (const event of client.watch(id, { signal: AbortSignal.timeout(timeoutMs) })) {
      if (FINAL.has(event.type)) {
        final = event;
        break;
      }
      // The queue's position ticks may still arrive once a worker has the job: they are old news.
      if (event.type === 'processing' || event.type === 'restarted') drawing = event.type === 'processing';
      if (drawing && (event.type === 'queued' || event.type === 'position')) continue;
      progress.update(`${heading} — ${describe(event)}.`);
    }
    if (!final) await client.cancel(id).catch(() => undefined);
    if (final?.type !== 'done') {
      await progress.finish(`${heading} — ${ENDINGS[final?.type ?? 'timeout']}.`);
      return;
    }

    const status = await client.status(id);
    const pictures = status.generations.filter((generation) => generation.state !== 'faulted');
    const images = await Promise.all(
      pictures.map(async (generation, index) => ({
        bytes: await client.image(generation),
        filename: `${preset.name}-${id.slice(-8)}-${index + 1}.webp`,
        description: `${what.prompt}, ${preset.label.toLowerCase()} (seed ${generation.seed})`,
      })),
    );
    const first = pictures[0];
    const result: OutgoingMessage = {
      text:
        `${heading} — seed ${first?.seed ?? '?'} · ${first?.model ?? '?'} · ` +
        `drawn by ${first?.worker_name ?? '?'} · ${Number(final.kudos.toFixed(1))} kudos.`,
      images,
      buttons: otherStyles(preset, id),
    };
    await progress.finish(result);
  }

  /** The other presets, five to a row (Discord's most). */
  function otherStyles(current: StylePreset, id: string): Button[][] {
    const buttons: Button[] = presets
      .filter((preset) => preset !== current)
      .map((preset) => ({ label: preset.label, action: 'style:restyle', payload: `${preset.name}|${id}` }));
    const rows: Button[][] = [];
    for (let start = 0; start < buttons.length; start += 5) rows.push(buttons.slice(start, start + 5));
    return rows;
  }

  return definePlugin({
    name: 'style',
    commands: [style],
    buttons: {
      restyle: {
        async handler(context) {
          const [name, id = ''] = context.press.payload.split('|');
          const preset = presets.find((candidate) => candidate.name === name);
          const what = drawn.get(id);
          if (!preset || !what) {
            throw new UserError('I no longer remember that picture. Use /style again.');
          }
          await draw(context, preset, what);
        },
      },
    },
  });
}

function describe(event: RequestEvent): string {
  switch (event.type) {
    case 'queued':
    case 'position':
      return `in the queue, position ${event.position}`;
    case 'processing':
      return `being drawn by ${event.workerName}`;
    case 'generation':
      return 'finishing';
    case 'restarted':
      return 'a worker failed; back in the queue';
    default:
      return event.type;
  }
}
