import { describe, expect, it } from 'vitest';
import { HordeCallError } from './horde-api.js';
import { explainPopRefusal, summariseSkipped } from './messages.js';

describe('summariseSkipped', () => {
  it('puts the largest count first, with the full sentence only on the first', () => {
    expect(summariseSkipped({ models: 3, lora: 12 })).toBe(
      '12 requests skipped: need LoRA support; 3: model not loaded',
    );
    expect(summariseSkipped({ nsfw: 2, max_pixels: 40, step_count: 7 })).toBe(
      '40 requests skipped: larger than max_pixels; 7: too many steps; 2: NSFW (this worker is SFW)',
    );
  });

  it('orders equal counts by reason', () => {
    expect(summariseSkipped({ models: 5, kudos: 5, blacklist: 5 })).toBe(
      '5 requests skipped: prompt has a word on your blacklist; 5: requester lacks upfront kudos; 5: model not loaded',
    );
  });

  it('says "request" for one', () => {
    expect(summariseSkipped({ worker_id: 1 })).toBe('1 request skipped: asked for other workers');
    expect(summariseSkipped({ models: 4, painting: 1 })).toBe(
      '4 requests skipped: model not loaded; 1: need inpainting',
    );
  });

  it('words the text reasons too', () => {
    expect(summariseSkipped({ max_context_length: 2, matching_softprompt: 1 })).toBe(
      '2 requests skipped: context longer than max_context_length; 1: need a softprompt',
    );
  });

  it('shows unknown reasons by their key', () => {
    expect(summariseSkipped({ quantum_flux: 9, models: 1 })).toBe(
      '9 requests skipped: quantum_flux; 1: model not loaded',
    );
  });

  it('drops zero, negative and non-finite counts', () => {
    expect(summariseSkipped({ models: 0, kudos: 2, nsfw: -1, lora: Number.NaN, img2img: Infinity })).toBe(
      '2 requests skipped: requester lacks upfront kudos',
    );
  });

  it('is empty when nothing was skipped', () => {
    expect(summariseSkipped({})).toBe('');
    expect(summariseSkipped({ models: 0, lora: 0 })).toBe('');
  });
});

describe('explainPopRefusal', () => {
  const context = {
    worker: 'fox-worker',
    horde: 'https://horde.example/api/v2',
    models: ['stable_diffusion', 'Deliberate'],
  };
  const refused = (message: string, status: number, rc?: string) =>
    new HordeCallError('refused', message, status, rc);

  it('explains maintenance mode, by rc or by the horde’s words, as a short pause', () => {
    const byRc = explainPopRefusal(refused('Worker is paused', 403, 'WorkerMaintenance'), context);
    expect(byRc.pause).toBe('short');
    expect(byRc.message).toContain('"fox-worker" is in maintenance mode on https://horde.example,');
    expect(byRc.message).toContain('(Worker is paused)');
    expect(byRc.message).toContain('PUT /api/v2/workers/<id> with {"maintenance": false}');

    const byText = explainPopRefusal(
      refused('This worker has been put into maintenance mode by its owner', 403),
      context,
    );
    expect(byText.pause).toBe('short');
    expect(byText.message).toContain('is in maintenance mode');
  });

  it('explains a worker name owned by another account', () => {
    const refusal = explainPopRefusal(
      refused('Wrong credentials to submit as this worker.', 403, 'WrongCredentials'),
      context,
    );
    expect(refusal).toEqual({
      pause: 'long',
      message:
        'The worker name "fox-worker" belongs to another account on https://horde.example. ' +
        'Choose another WORKER_NAME, or use the API key of the account that owns it.',
    });
    expect(explainPopRefusal(refused('wrong credentials', 403), context).message).toContain(
      'belongs to another account',
    );
  });

  it('explains an unknown API key (401 or rc InvalidAPIKey)', () => {
    const expected = {
      pause: 'long',
      message:
        'https://horde.example does not know this API key. Check HORDE_API_KEY ' +
        '(register at https://horde.example/register).',
    };
    expect(
      explainPopRefusal(refused('No user matching sent API Key.', 401, 'InvalidAPIKey'), context),
    ).toEqual(expected);
    expect(explainPopRefusal(refused('Unauthorized', 401), context)).toEqual(expected);
    expect(explainPopRefusal(refused('bad key', 400, 'InvalidAPIKey'), context)).toEqual(expected);
  });

  it('explains that anonymous workers are not allowed', () => {
    for (const rc of ['AnonForbiddenWorker', 'AnonForbidden']) {
      const refusal = explainPopRefusal(refused('Anonymous user is forbidden', 403, rc), context);
      expect(refusal.pause).toBe('long');
      expect(refusal.message).toBe(
        'Workers need a registered API key, not the anonymous one: register at ' +
          'https://horde.example/register and set HORDE_API_KEY.',
      );
    }
  });

  it('explains models the horde does not know, listing ours', () => {
    const refusal = explainPopRefusal(refused('No valid models', 400, 'NoValidModels'), context);
    expect(refusal.pause).toBe('long');
    expect(refusal.message).toContain(
      'https://horde.example does not recognise the models this worker serves (stable_diffusion, Deliberate).',
    );
    expect(refusal.message).toContain('GET /api/v2/status/models?model_state=known');

    const none = explainPopRefusal(
      refused('This horde cannot accept workers serving unrecognised models', 403),
      { ...context, models: [] },
    );
    expect(none.message).toContain('serves (none)');
  });

  it('passes an unknown refusal on with its rc, as a short pause', () => {
    expect(explainPopRefusal(refused('Too many workers on this IP', 403, 'TooManyWorkers'), context)).toEqual(
      {
        pause: 'short',
        message: 'https://horde.example refused the pop (TooManyWorkers): Too many workers on this IP',
      },
    );
    expect(explainPopRefusal(refused('Something odd', 400), context)).toEqual({
      pause: 'short',
      message: 'https://horde.example refused the pop: Something odd',
    });
  });
});
