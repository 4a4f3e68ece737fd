/**
 * What the horde tells a worker, said as what its owner should do: pop refusals (maintenance, someone
 * else's worker name, a bad key) and the `skipped` counts of empty pops.
 */
import type { HordeCallError } from './horde-api.js';

/** Why popping stopped, and for how long the worker waits before asking again. */
export interface PopRefusal {
  message: string;
  /** `short` pauses recheck within a minute; `long` ones need the owner to change something first. */
  pause: 'short' | 'long';
}

/** Turns a refused pop (4xx) into the action the owner must take. */
export function explainPopRefusal(
  error: HordeCallError,
  context: { worker: string; horde: string; models: readonly string[] },
): PopRefusal {
  const site = context.horde.replace(/\/api\/v2$/, '');
  const said = error.message;
  const rc = error.rc ?? '';
  if (rc === 'WorkerMaintenance' || /maintenance mode/i.test(said)) {
    return {
      pause: 'short',
      message:
        `"${context.worker}" is in maintenance mode on ${site}, so it gets no jobs (${said}). ` +
        'Fix what put it there, then take it out of maintenance: PUT /api/v2/workers/<id> ' +
        'with {"maintenance": false} and your API key (or from the horde\'s web page).',
    };
  }
  if (rc === 'WrongCredentials' || /wrong credentials/i.test(said)) {
    return {
      pause: 'long',
      message:
        `The worker name "${context.worker}" belongs to another account on ${site}. ` +
        'Choose another WORKER_NAME, or use the API key of the account that owns it.',
    };
  }
  if (rc === 'InvalidAPIKey' || error.status === 401) {
    return {
      pause: 'long',
      message: `${site} does not know this API key. Check HORDE_API_KEY (register at ${site}/register).`,
    };
  }
  if (rc === 'AnonForbiddenWorker' || rc === 'AnonForbidden') {
    return {
      pause: 'long',
      message:
        `Workers need a registered API key, not the anonymous one: register at ${site}/register ` +
        'and set HORDE_API_KEY.',
    };
  }
  if (rc === 'NoValidModels' || /cannot accept workers serving/i.test(said)) {
    return {
      pause: 'long',
      message:
        `${site} does not recognise the models this worker serves (${context.models.join(', ') || 'none'}). ` +
        'Serve a model from its reference (GET /api/v2/status/models?model_state=known), or ask a ' +
        'moderator for the customizer role.',
    };
  }
  return { pause: 'short', message: `${site} refused the pop${rc ? ` (${rc})` : ''}: ${said}` };
}

/** The words for each `skipped` reason the horde counts (spec §3.5; image and text keys). */
const SKIP_PHRASES: Readonly<Record<string, string>> = {
  models: 'model not loaded',
  max_pixels: 'larger than max_pixels',
  step_count: 'too many steps',
  img2img: 'need img2img',
  painting: 'need inpainting',
  'post-processing': 'need post-processing',
  lora: 'need LoRA support',
  controlnet: 'need ControlNet',
  unsafe_ip: 'from an IP this worker refuses',
  nsfw: 'NSFW (this worker is SFW)',
  blacklist: 'prompt has a word on your blacklist',
  untrusted: 'want trusted workers only',
  worker_id: 'asked for other workers',
  performance: 'need a faster worker',
  kudos: 'requester lacks upfront kudos',
  bridge_version: 'need a newer worker version',
  max_context_length: 'context longer than max_context_length',
  max_length: 'longer than max_length',
  matching_softprompt: 'need a softprompt',
};

/**
 * `12 requests skipped: need LoRA support; 3: model not loaded` — largest first; '' when nothing was
 * skipped. Unknown reasons are shown by their key.
 */
export function summariseSkipped(skipped: Readonly<Record<string, number>>): string {
  const entries = Object.entries(skipped)
    .filter(([, count]) => Number.isFinite(count) && count > 0)
    .sort(([a, countA], [b, countB]) => countB - countA || a.localeCompare(b));
  if (entries.length === 0) return '';
  return entries
    .map(([reason, count], index) => {
      const phrase = SKIP_PHRASES[reason] ?? reason;
      if (index > 0) return `${count}: ${phrase}`;
      return `${count} ${count === 1 ? 'request' : 'requests'} skipped: ${phrase}`;
    })
    .join('; ');
}
