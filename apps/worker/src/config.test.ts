import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

const dir = mkdtempSync(join(tmpdir(), 'hordekit-worker-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileCounter = 0;
function writeConfig(extension: string, text: string): string {
  fileCounter += 1;
  const file = join(dir, `worker-${fileCounter}.${extension}`);
  writeFileSync(file, text);
  return file;
}

/** Runs `load` and returns the ConfigError it threw (fails the test when it did not throw one). */
function configError(load: () => unknown): ConfigError {
  try {
    load();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const KEY_AND_NAME = { HORDE_API_KEY: 'key-from-env', WORKER_NAME: 'env-worker' };

describe('loadConfig: files', () => {
  it('reads a YAML file with both backends', () => {
    const file = writeConfig(
      'yaml',
      [
        'horde_url: https://horde.example/api/v2',
        'api_key: yaml-key',
        'worker_name: yaml-worker',
        'image:',
        '  backend: a1111',
        '  url: http://127.0.0.1:7860',
        '  threads: 2',
        '  nsfw: false',
        '  max_power: 32',
        '  models:',
        '    - sd15',
        '    - sdxl',
        'text:',
        '  backend: koboldcpp',
        '  max_length: 256',
        '  blacklist: cat, dog',
        '',
      ].join('\n'),
    );
    const config = loadConfig({ file, env: {} });
    expect(config.horde_url).toBe('https://horde.example/api/v2');
    expect(config.api_key).toBe('yaml-key');
    expect(config.worker_name).toBe('yaml-worker');
    expect(config.image).toMatchObject({
      backend: 'a1111',
      url: 'http://127.0.0.1:7860',
      threads: 2,
      nsfw: false,
      max_power: 32,
      models: ['sd15', 'sdxl'],
    });
    expect(config.text).toMatchObject({ backend: 'koboldcpp', max_length: 256, blacklist: ['cat', 'dog'] });
  });

  it('reads a JSON file, including a model mapping', () => {
    const file = writeConfig(
      'json',
      JSON.stringify({
        api_key: 'json-key',
        worker_name: 'json-worker',
        image: {
          backend: 'comfyui',
          amount: 4,
          models: { 'Deliberate 3': 'deliberate_v3.safetensors' },
        },
      }),
    );
    const config = loadConfig({ file, env: {} });
    expect(config.api_key).toBe('json-key');
    expect(config.worker_name).toBe('json-worker');
    expect(config.image).toMatchObject({
      backend: 'comfyui',
      amount: 4,
      models: { 'Deliberate 3': 'deliberate_v3.safetensors' },
    });
    expect(config.text).toBeUndefined();
  });

  it('takes the file from WORKER_CONFIG when no file is passed', () => {
    const file = writeConfig('yaml', 'api_key: k\nworker_name: from-worker-config\n');
    expect(loadConfig({ env: { WORKER_CONFIG: file } }).worker_name).toBe('from-worker-config');
  });

  it('treats an empty file as an empty mapping', () => {
    const file = writeConfig('yaml', '');
    const config = loadConfig({ file, env: KEY_AND_NAME });
    expect(config.image?.backend).toBe('demo');
  });
});

describe('loadConfig: the environment', () => {
  it('overrides the file, key by key, and keeps the file’s other keys', () => {
    const file = writeConfig(
      'yaml',
      [
        'horde_url: https://file.example',
        'api_key: file-key',
        'worker_name: file-worker',
        'image:',
        '  backend: a1111',
        '  url: http://127.0.0.1:7860',
        '  nsfw: false',
        '  models: [from-file]',
        '',
      ].join('\n'),
    );
    const config = loadConfig({
      file,
      env: {
        HORDE_URL: 'https://env.example/api',
        HORDE_API_KEY: 'env-key',
        WORKER_NAME: 'env-worker',
        IMAGE_BACKEND: 'comfyui',
        IMAGE_BACKEND_URL: 'http://10.0.0.2:8188',
        IMAGE_MODELS: 'sd15, sdxl ,, flux',
        IMAGE_THREADS: '3',
        IMAGE_MAX_PIXELS: '1048576',
        TEXT_BACKEND: 'openai-completions',
        TEXT_BACKEND_URL: 'http://127.0.0.1:5000/v1',
        TEXT_BACKEND_API_KEY: 'sk-local',
        TEXT_MODEL: 'llama-3-8b',
        TEXT_THREADS: '2',
      },
    });
    expect(config.horde_url).toBe('https://env.example/api');
    expect(config.api_key).toBe('env-key');
    expect(config.worker_name).toBe('env-worker');
    expect(config.image).toMatchObject({
      backend: 'comfyui',
      url: 'http://10.0.0.2:8188',
      models: ['sd15', 'sdxl', 'flux'],
      threads: 3,
      max_pixels: 1_048_576,
      // Not set by the environment: still the file's.
      nsfw: false,
    });
    expect(config.text).toMatchObject({
      backend: 'openai-completions',
      url: 'http://127.0.0.1:5000/v1',
      api_key: 'sk-local',
      model: 'llama-3-8b',
      threads: 2,
    });
  });

  it('ignores empty variables', () => {
    const file = writeConfig('yaml', 'api_key: file-key\nworker_name: file-worker\n');
    const config = loadConfig({ file, env: { HORDE_API_KEY: '', WORKER_NAME: '', IMAGE_BACKEND: '' } });
    expect(config.api_key).toBe('file-key');
    expect(config.worker_name).toBe('file-worker');
    expect(config.image?.backend).toBe('demo');
  });

  it('configures everything from the environment alone', () => {
    const config = loadConfig({ env: { ...KEY_AND_NAME, TEXT_BACKEND: 'demo' } });
    expect(config.text?.backend).toBe('demo');
    // A text backend is configured, so no demo image backend is added.
    expect(config.image).toBeUndefined();
  });
});

describe('loadConfig: defaults', () => {
  it('runs the demo image backend when no backend is configured', () => {
    const config = loadConfig({ env: KEY_AND_NAME });
    expect(config.horde_url).toBe('http://127.0.0.1:7001');
    expect(config.text).toBeUndefined();
    expect(config.image).toEqual({
      backend: 'demo',
      threads: 1,
      amount: 1,
      nsfw: true,
      blacklist: [],
      require_upfront_kudos: false,
      extra_slow_worker: false,
      priority_usernames: [],
      allow_img2img: true,
      allow_painting: true,
      allow_post_processing: true,
      allow_lora: true,
      allow_unsafe_ipaddr: true,
      limit_max_steps: false,
    });
  });

  it('fills the same defaults into a text backend', () => {
    const config = loadConfig({ env: { ...KEY_AND_NAME, TEXT_BACKEND: 'koboldcpp' } });
    expect(config.text).toMatchObject({ backend: 'koboldcpp', threads: 1, amount: 1, nsfw: true });
  });

  it('reads yes/no style flags', () => {
    const file = writeConfig(
      'yaml',
      'image:\n  backend: demo\n  nsfw: "no"\n  allow_lora: "off"\n  limit_max_steps: "YES"\n',
    );
    const config = loadConfig({ file, env: KEY_AND_NAME });
    expect(config.image).toMatchObject({ nsfw: false, allow_lora: false, limit_max_steps: true });
  });
});

describe('loadConfig: problems', () => {
  it('lists every problem in one ConfigError', () => {
    const file = writeConfig(
      'yaml',
      [
        'horde_url: not a url',
        'image:',
        '  backend: stable-diffusion-cpp',
        '  url: localhost without a scheme',
        '  threads: 33',
        'text:',
        '  backend: koboldcpp',
        '  threads: 0',
        '',
      ].join('\n'),
    );
    const error = configError(() => loadConfig({ file, env: {} }));
    expect(error.name).toBe('ConfigError');
    expect(error.message).toMatch(/^invalid worker configuration:\n/);
    const problems = error.message.split('\n').slice(1);
    const paths = problems.map((line) => line.trim().split(':')[0]);
    expect(paths).toEqual(
      expect.arrayContaining([
        'horde_url',
        'api_key',
        'worker_name',
        'image.backend',
        'image.url',
        'image.threads',
        'text.threads',
      ]),
    );
    expect(problems).toHaveLength(7);
  });

  it('reports a missing API key even when everything else is fine', () => {
    const error = configError(() => loadConfig({ env: { WORKER_NAME: 'w' } }));
    const lines = error.message.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^ {2}api_key: /);
  });

  it('says how to set the API key when the file leaves it empty', () => {
    const file = writeConfig('yaml', 'api_key: ""\nworker_name: w\n');
    expect(configError(() => loadConfig({ file, env: {} })).message).toBe(
      'invalid worker configuration:\n  api_key: set HORDE_API_KEY (or api_key in the config file) to your API key on that horde',
    );
  });

  it('says how to set the API key and the name when neither is given at all', () => {
    const message = configError(() => loadConfig({ env: {} })).message;
    expect(message).toMatch(/api_key: set HORDE_API_KEY \(or api_key in the config file\)/);
    expect(message).toMatch(/worker_name: set WORKER_NAME \(or worker_name in the config file\)/);
  });

  it('takes 0 and 1 for yes/no settings, as YAML files often say them', () => {
    const file = writeConfig('yaml', 'image:\n  backend: demo\n  nsfw: 0\n  allow_img2img: 1\n');
    const config = loadConfig({ file, env: KEY_AND_NAME });
    expect([config.image?.nsfw, config.image?.allow_img2img]).toEqual([false, true]);
  });

  it('rejects a bad backend name from the environment', () => {
    const error = configError(() => loadConfig({ env: { ...KEY_AND_NAME, IMAGE_BACKEND: 'midjourney' } }));
    expect(error.message).toMatch(/\n {2}image\.backend: /);
    expect(error.message).not.toMatch(/\n {2}api_key/);
  });

  it('rejects thread counts out of range, whichever side', () => {
    const tooMany = configError(() => loadConfig({ env: { ...KEY_AND_NAME, IMAGE_THREADS: '64' } }));
    expect(tooMany.message).toMatch(/image\.threads: /);
    const tooFew = configError(() =>
      loadConfig({ env: { ...KEY_AND_NAME, TEXT_BACKEND: 'demo', TEXT_THREADS: '0' } }),
    );
    expect(tooFew.message).toMatch(/text\.threads: /);
    const notANumber = configError(() => loadConfig({ env: { ...KEY_AND_NAME, IMAGE_THREADS: 'many' } }));
    expect(notANumber.message).toMatch(/image\.threads: /);
  });

  it('says a file it cannot read cannot be read', () => {
    const missing = join(dir, 'does-not-exist.yaml');
    const error = configError(() => loadConfig({ file: missing, env: KEY_AND_NAME }));
    expect(error.message).toContain(`cannot read ${missing}`);
    expect(error.message).toContain('ENOENT');

    const directory = join(dir, 'a-directory.yaml');
    mkdirSync(directory);
    expect(configError(() => loadConfig({ file: directory, env: KEY_AND_NAME })).message).toContain(
      `cannot read ${directory}`,
    );
  });

  it('refuses a file that is not a mapping', () => {
    const list = writeConfig('yaml', '- api_key\n- worker_name\n');
    expect(configError(() => loadConfig({ file: list, env: KEY_AND_NAME })).message).toBe(
      `${list} must hold a mapping`,
    );
    const scalar = writeConfig('json', '"just a string"');
    expect(configError(() => loadConfig({ file: scalar, env: KEY_AND_NAME })).message).toBe(
      `${scalar} must hold a mapping`,
    );
  });

  it('refuses a file that is neither YAML nor JSON', () => {
    const broken = writeConfig('json', '{"api_key": "k", "image": {');
    const error = configError(() => loadConfig({ file: broken, env: KEY_AND_NAME }));
    expect(error.message).toContain(`${broken} is not valid YAML or JSON`);
  });
});
