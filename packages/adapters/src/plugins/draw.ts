/**
 * `/draw`: a prompt in, one progress message edited as the request moves (queue position, ETA, the
 * worker drawing it), then the images with their seed, model, worker and cost, and buttons — redo with a
 * new seed, details, delete (requester or admin), and cancel while waiting.
 */
import type { GenerateResult, ImageGenerateInput, RequestEvent } from '@hordekit/core';
import type { BaseContext, ButtonContext } from '../framework/context.js';
import { defineCommand, definePlugin, type PluginDefinition } from '../framework/define.js';
import { HordeRefusal, UserError } from '../framework/errors.js';
import type { Button, Choice, OutgoingMessage } from '../framework/types.js';
import { DrawRequests } from './draw-requests.js';
import { applyStyle, DRAW_STYLES } from './styles.js';

export const SIZES: readonly (Choice & { width: number; height: number })[] = [
  { name: 'square 512×512', value: '512x512', width: 512, height: 512 },
  { name: 'portrait 512×768', value: '512x768', width: 512, height: 768 },
  { name: 'landscape 768×512', value: '768x512', width: 768, height: 512 },
  { name: 'large square 1024×1024', value: '1024x1024', width: 1024, height: 1024 },
  { name: 'large portrait 832×1216', value: '832x1216', width: 832, height: 1216 },
  { name: 'large landscape 1216×832', value: '1216x832', width: 1216, height: 832 },
];

/** What the bot remembers of a request it sent, for the buttons. */
export interface DrawRecord {
  input: ImageGenerateInput;
  requesterId: string;
  prompt: string;
}

export interface DrawPluginOptions {
  /** Longest a /draw waits for its images before giving up (and cancelling). @default 20 minutes */
  timeoutMs?: number;
  /** Remembered requests (for redo/details/delete/cancel); the newest `maxRecords` are kept. */
  maxRecords?: number;
  /**
   * Where the requests still waiting are kept, for `/cancel` (`cancelPlugin`). @default a new registry,
   * returned as the plugin's `requests`
   */
  requests?: DrawRequests;
}

export function drawPlugin(options: DrawPluginOptions = {}): PluginDefinition & { requests: DrawRequests } {
  const timeoutMs = options.timeoutMs ?? 20 * 60_000;
  const running = options.requests ?? new DrawRequests();
  const records = new Map<string, DrawRecord>();
  const remember = (id: string, record: DrawRecord) => {
    records.set(id, record);
    if (records.size > (options.maxRecords ?? 5000)) records.delete(records.keys().next().value as string);
  };

  const draw = defineCommand({
    name: 'draw',
    description: 'Draw a picture from a prompt on the horde',
    limited: true,
    promptOption: 'prompt',
    options: {
      prompt: { type: 'string', description: 'What to draw', required: true, maxLength: 1000 },
      negative: { type: 'string', description: 'What to keep out of the picture', maxLength: 500 },
      model: {
        type: 'string',
        description: 'The model (default: any the horde picks)',
        maxLength: 100,
        autocomplete: async (typed, { horde }) => {
          const models = await horde.client.models('image');
          return models
            .filter((model) => model.count > 0 && model.name.toLowerCase().includes(typed.toLowerCase()))
            .sort((a, b) => b.count - a.count)
            .map((model) => ({
              name: `${model.name} (${model.count} online)`.slice(0, 100),
              value: model.name,
            }));
        },
      },
      size: { type: 'choice', description: 'Picture size', choices: SIZES },
      steps: { type: 'integer', description: 'Sampling steps (more: slower, finer)', min: 1, max: 150 },
      count: { type: 'integer', description: 'How many pictures (1–4)', min: 1, max: 4 },
      seed: { type: 'string', description: 'Seed, to draw the same picture again', maxLength: 40 },
      style: { type: 'choice', description: 'A style to draw it in', choices: DRAW_STYLES },
    },
    async handler(context) {
      const { settings } = context;
      const { size, steps, count, seed } = context.options;
      const { prompt: styled, negative } = applyStyle(
        context.options.style,
        context.options.prompt,
        context.options.negative,
      );
      const prompt = context.options.prompt;
      const model = context.options.model ?? settings.defaultModel;
      if (model && settings.allowedModels.length > 0 && !settings.allowedModels.includes(model)) {
        throw new UserError(`Here you can draw with: ${settings.allowedModels.join(', ')}.`);
      }
      if (steps !== undefined && steps > settings.maxSteps) {
        throw new UserError(`At most ${settings.maxSteps} steps here.`);
      }
      if (count !== undefined && count > settings.maxImages) {
        throw new UserError(`At most ${settings.maxImages} pictures at a time here.`);
      }
      const dimensions = SIZES.find((entry) => entry.value === size) ?? SIZES[0]!;
      const nsfw = context.state.nsfw === true;
      const input: ImageGenerateInput = {
        prompt: negative ? `${styled} ### ${negative}` : styled,
        // No model named: the place's allowed models (the horde picks among them), or any.
        models: model ? [model] : settings.allowedModels,
        nsfw,
        censor_nsfw: !nsfw,
        r2: true,
        params: {
          width: dimensions.width,
          height: dimensions.height,
          steps: steps ?? 30,
          n: count ?? 1,
          ...(seed ? { seed } : {}),
        },
      };
      context.state.model = model ?? (settings.allowedModels.join(', ') || undefined);
      await run(context, input, prompt);
    },
  });

  async function run(context: BaseContext, input: ImageGenerateInput, prompt: string): Promise<void> {
    const { client } = context.horde;
    const models = input.models ?? [];
    // Asking for models nobody serves would only wait in the queue until it expires: say so before paying.
    if (models.length > 0) {
      const online = (await client.workers('image')).filter(
        (worker) => worker.online && !worker.maintenance_mode,
      );
      if (!online.some((worker) => models.some((model) => worker.models.includes(model)))) {
        throw new HordeRefusal('NoValidWorkers', `no worker serves ${models.join(', ')}`);
      }
    }
    const account = await context.account();
    const accepted = await client.generateImage(account.credentials, input);
    const id = accepted.id;
    if (!id) throw new UserError('The horde did not queue the request. Please try again.');
    remember(id, { input, requesterId: context.who.id, prompt });
    running.started({
      requestId: id,
      platform: context.where.platform,
      placeId: context.where.placeId,
      userId: context.who.id,
      prompt,
    });
    try {
      await follow(context, id, accepted, prompt);
    } finally {
      running.finished(id);
    }
  }

  async function follow(
    context: BaseContext,
    id: string,
    accepted: GenerateResult,
    prompt: string,
  ): Promise<void> {
    const { client } = context.horde;
    const view = new DrawProgress(prompt, id, accepted.kudos);
    // The horde's "no worker can take it" is a snapshot (a worker may be starting): wait, but say so.
    if (accepted.warnings?.some((warning) => warning.code === 'NoAvailableWorker')) view.noWorkerYet();
    const progress = await context.progress(view.render());

    const stop = AbortSignal.timeout(timeoutMs);
    const events = client.watch(id, { signal: stop })[Symbol.asyncIterator]();
    // The first next() subscribes; a worker may have taken the job before that: show it if so.
    let next = events.next();
    const now = await client.check(id).catch(() => undefined);
    if (now && now.processing > 0) {
      view.drawing();
      progress.update(view.render());
    }
    let final: RequestEvent | undefined;
    for (let result = await next; !result.done; result = await next) {
      const event = result.value;
      view.apply(event);
      if (
        event.type === 'done' ||
        event.type === 'faulted' ||
        event.type === 'cancelled' ||
        event.type === 'expired'
      ) {
        final = event;
        await events.return?.(undefined);
        break;
      }
      progress.update(view.render());
      next = events.next();
    }
    if (!final) {
      await client.cancel(id).catch(() => undefined);
      await progress.finish(
        `“${prompt}” took too long and was cancelled. Try a smaller picture or another model.`,
      );
      return;
    }
    if (final.type !== 'done') {
      const reason =
        final.type === 'cancelled'
          ? 'was cancelled'
          : final.type === 'expired'
            ? 'expired: no worker took it in time'
            : 'failed on every worker that tried it';
      await progress.finish(`“${prompt}” ${reason}.`);
      return;
    }
    await progress.finish(await finalMessage(context, id, prompt, final.kudos));
  }

  async function finalMessage(
    context: BaseContext,
    id: string,
    prompt: string,
    kudos: number,
  ): Promise<OutgoingMessage> {
    const { client } = context.horde;
    const status = await client.status(id);
    const delivered = status.generations.filter((generation) => generation.state !== 'faulted');
    const images = await Promise.all(
      delivered.map(async (generation, index) => ({
        bytes: await client.image(generation),
        filename: `${id.slice(-8)}-${index + 1}.webp`,
        description: `${prompt} (seed ${generation.seed})`,
      })),
    );
    const first = delivered[0];
    const seeds = delivered.map((generation) => generation.seed).join(', ');
    const censored = delivered.some((generation) => generation.censored)
      ? ' Some pictures were censored.'
      : '';
    const text =
      `“${prompt}” — seed ${seeds} · ${first?.model ?? '?'} · drawn by ${first?.worker_name ?? '?'} · ` +
      `${formatKudos(kudos)} kudos.${censored}`;
    return { text, images, buttons: [resultButtons(id)] };
  }

  const requireRecord = (context: ButtonContext): DrawRecord => {
    const record = records.get(context.press.payload);
    if (!record)
      throw new UserError('I no longer remember that picture (the bot restarted or it is too old).');
    return record;
  };
  const ownerOrAdmin = (context: ButtonContext, record: DrawRecord, what: string) => {
    if (record.requesterId !== context.who.id && !context.who.isAdmin) {
      throw new UserError(`Only the person who asked for it, or an admin, can ${what}.`);
    }
  };

  const plugin = definePlugin({
    name: 'draw',
    commands: [draw],
    buttons: {
      redo: {
        async handler(context) {
          const record = requireRecord(context);
          const { seed: _old, ...params } = record.input.params ?? {};
          context.state.model = record.input.models?.[0];
          await run(context, { ...record.input, params }, record.prompt);
        },
      },
      details: {
        async handler(context) {
          const id = context.press.payload;
          const status = await context.horde.client.status(id);
          const lines = status.generations.map(
            (generation, index) =>
              `${index + 1}. seed ${generation.seed}, ${generation.model}, worker ${generation.worker_name}` +
              `${generation.censored ? ' (censored)' : ''}`,
          );
          await context.ephemeral(`Request ${id}, ${formatKudos(status.kudos)} kudos:\n${lines.join('\n')}`);
        },
      },
      delete: {
        async handler(context) {
          const record = requireRecord(context);
          ownerOrAdmin(context, record, 'delete it');
          await context.delete(context.press.message);
        },
      },
      cancel: {
        async handler(context) {
          const record = requireRecord(context);
          ownerOrAdmin(context, record, 'cancel it');
          await context.horde.client.cancel(context.press.payload);
        },
      },
    },
  });
  return Object.assign(plugin, { requests: running });
}

function resultButtons(id: string): Button[] {
  return [
    { label: 'Redo (new seed)', action: 'draw:redo', payload: id, style: 'primary' },
    { label: 'Details', action: 'draw:details', payload: id, style: 'secondary' },
    { label: 'Delete', action: 'draw:delete', payload: id, style: 'danger' },
  ];
}

/** The progress message's state, from the request's events. */
class DrawProgress {
  #line: string;
  #done = 0;
  #total = 0;
  #drawing = false;

  constructor(
    readonly prompt: string,
    readonly id: string,
    kudos: number,
  ) {
    this.#line = `queued (${formatKudos(kudos)} kudos)`;
  }

  drawing(): void {
    this.#drawing = true;
    this.#line = 'a worker is drawing it';
  }

  noWorkerYet(): void {
    this.#line = 'no worker online can take it right now; it waits up to 20 minutes for one (or cancel it)';
  }

  apply(event: RequestEvent): void {
    switch (event.type) {
      case 'queued':
      case 'position':
        // A position published just before a worker took the job can arrive after it: keep "drawing".
        if (this.#drawing) break;
        this.#line = `in the queue: position ${event.position}, about ${formatWait(event.waitTime)}`;
        break;
      case 'processing':
        this.#drawing = true;
        this.#total = Math.max(this.#total, this.#done + event.jobIds.length);
        this.#line = `drawing on ${event.workerName} (${event.model})`;
        break;
      case 'generation':
        this.#done += 1;
        this.#line = `${this.#done} picture${this.#done === 1 ? '' : 's'} ready, finishing`;
        break;
      case 'restarted':
        this.#drawing = false;
        this.#line = 'a worker failed; back in the queue';
        break;
      default:
        break;
    }
  }

  render(): OutgoingMessage {
    return {
      text: `Drawing “${this.prompt}”: ${this.#line}.`,
      buttons: [[{ label: 'Cancel', action: 'draw:cancel', payload: this.id, style: 'danger' }]],
    };
  }
}

function formatKudos(kudos: number): string {
  return Number.isInteger(kudos) ? String(kudos) : kudos.toFixed(1);
}

function formatWait(seconds: number): string {
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  return `${Math.round(seconds / 60)} min`;
}
