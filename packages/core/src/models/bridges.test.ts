import { describe, expect, it } from 'vitest';
import { ALL_BRIDGE_CAPABILITIES, bridgeProfile, parseBridgeAgent, supportsSampler } from './bridges.js';

const REGEN_URL = 'https://github.com/Haidra-Org/horde-worker-reGen';
const regen = (version: string | number) => `AI Horde Worker reGen:${version}:${REGEN_URL}`;
const legacy = (version: number) => `AI Horde Worker:${version}:https://github.com/db0/AI-Horde-Worker`;

const image = (raw: string, permissiveUnknownBridges = false) =>
  bridgeProfile(raw, { kind: 'image', permissiveUnknownBridges });
const text = (raw: string) => bridgeProfile(raw, { kind: 'text', permissiveUnknownBridges: false });

describe('parseBridgeAgent', () => {
  it('parses the official workers', () => {
    expect(parseBridgeAgent(regen('9.0.1'))).toEqual({
      name: 'AI Horde Worker reGen',
      version: 9,
      url: REGEN_URL,
      raw: regen('9.0.1'),
    });
    expect(parseBridgeAgent(legacy(24))).toMatchObject({
      name: 'AI Horde Worker',
      version: 24,
      url: 'https://github.com/db0/AI-Horde-Worker',
    });
    expect(parseBridgeAgent('KoboldCppEmbedWorker:2:https://github.com/LostRuins/koboldcpp')).toMatchObject({
      name: 'KoboldCppEmbedWorker',
      version: 2,
    });
  });

  it("parses the server's default agent", () => {
    expect(parseBridgeAgent('unknown:0:unknown')).toEqual({
      name: 'unknown',
      version: 0,
      url: 'unknown',
      raw: 'unknown:0:unknown',
    });
  });

  it('keeps the colons of the url', () => {
    expect(parseBridgeAgent('my-bridge:3:http://localhost:8080/a:b').url).toBe('http://localhost:8080/a:b');
  });

  it('reads only the major version, and null when the version is not a number', () => {
    expect(parseBridgeAgent('x:10.1.1:u').version).toBe(10);
    expect(parseBridgeAgent('x:9.0.1-beta.2:u').version).toBe(9);
    expect(parseBridgeAgent('x:latest:u').version).toBeNull();
    expect(parseBridgeAgent('x:v9:u').version).toBeNull();
    expect(parseBridgeAgent('x::u').version).toBeNull();
    expect(parseBridgeAgent('x:99999999999999999999:u').version).toBeNull();
  });

  it('never throws on garbage', () => {
    expect(parseBridgeAgent('')).toEqual({ name: 'unknown', version: null, url: '', raw: '' });
    expect(parseBridgeAgent('just a name')).toEqual({
      name: 'just a name',
      version: null,
      url: '',
      raw: 'just a name',
    });
    expect(parseBridgeAgent(':::')).toMatchObject({ name: 'unknown', version: null, url: ':' });
    expect(parseBridgeAgent('name:7')).toMatchObject({ name: 'name', version: 7, url: '' });
    expect(() => parseBridgeAgent(undefined as unknown as string)).not.toThrow();
    expect(() => parseBridgeAgent('\u0000💥:١٢:\n')).not.toThrow();
  });
});

describe('capabilities by version', () => {
  it('gives reGen its capabilities cumulatively', () => {
    const v1 = image(regen(1)).capabilities;
    expect(v1.has('img2img')).toBe(true);
    expect(v1.has('r2')).toBe(true);
    expect(v1.has('hires_fix')).toBe(true);
    expect(v1.has('lora')).toBe(false);
    expect(image(regen(2)).capabilities.has('lora')).toBe(true);
    expect(image(regen(2)).capabilities.has('lora_versions')).toBe(false);
    expect(image(regen(3)).capabilities.has('lora_versions')).toBe(true);
    expect(image(regen(5)).capabilities.has('extra_source_images')).toBe(true);
    expect(image(regen(7)).capabilities.has('qr_code')).toBe(true);
    expect(image(regen(8)).capabilities.has('flux')).toBe(false);
    const v9 = image(regen('9.0.1')).capabilities;
    expect(v9.has('flux')).toBe(true);
    expect(v9.has('layer_diffuse')).toBe(true);
    expect(v9.has('RestoreFormer')).toBe(false);
    expect(image(regen(13)).capabilities.has('RestoreFormer')).toBe(true);
    expect(image(regen(13)).capabilities.has('4xNomos2_hq_dat2')).toBe(true);
  });

  it('gives the legacy worker its own table, without flux', () => {
    const v24 = image(legacy(24)).capabilities;
    expect(v24.has('lora')).toBe(true);
    expect(v24.has('textual_inversion')).toBe(true);
    expect(v24.has('controlnet')).toBe(true);
    expect(v24.has('flux')).toBe(false);
    expect(v24.has('layer_diffuse')).toBe(false);
    expect(image(legacy(21)).capabilities.has('lora')).toBe(false);
    expect(image(legacy(2)).capabilities.size).toBe(0);
  });

  it('gives third-party bridges their tables', () => {
    const webui = image('SD-WebUI Stable Horde Worker Bridge:4:https://example.org').capabilities;
    expect(webui.has('r2')).toBe(true);
    expect(webui.has('clip_skip')).toBe(true);
    expect(webui.has('lora')).toBe(false);
    expect(image('HordeAutoWebBridge:1:u').capabilities.has('img2img')).toBe(true);
    expect(image('HordeAutoWebBridge:1:u').known).toBe(true);
  });

  it('gives our own worker flux and LoRA', () => {
    const ours = image('hordekit-worker:1:https://example.org');
    expect(ours.known).toBe(true);
    expect(ours.capabilities.has('flux')).toBe(true);
    expect(ours.capabilities.has('lora')).toBe(true);
    expect(ours.capabilities.has('layer_diffuse')).toBe(false);
    expect(supportsSampler(ours, 'lcm', true)).toBe(true);
  });
});

describe('samplers', () => {
  it('adds lcm only from reGen 3', () => {
    expect(supportsSampler(image(regen(2)), 'lcm', true)).toBe(false);
    expect(supportsSampler(image(regen(2)), 'lcm', false)).toBe(false);
    expect(supportsSampler(image(regen(3)), 'lcm', true)).toBe(true);
    expect(supportsSampler(image(regen(10)), 'lcm', false)).toBe(true);
  });

  it('gives reGen 1 the k_* samplers and reGen 2 DDIM and dpmsolver, with karras on or off', () => {
    expect(supportsSampler(image(regen(1)), 'k_euler_a', true)).toBe(true);
    expect(supportsSampler(image(regen(1)), 'DDIM', true)).toBe(false);
    expect(supportsSampler(image(regen(2)), 'DDIM', true)).toBe(true);
    expect(supportsSampler(image(regen(2)), 'dpmsolver', false)).toBe(true);
  });

  it('offers legacy DDIM only without karras', () => {
    const v23 = image(legacy(23));
    expect(supportsSampler(v23, 'DDIM', true)).toBe(false);
    expect(supportsSampler(v23, 'DDIM', false)).toBe(true);
    expect(supportsSampler(v23, 'k_dpmpp_sde', true)).toBe(true);
    expect(supportsSampler(v23, 'lcm', false)).toBe(false);
  });
});

describe('unknown bridges', () => {
  it('get nothing but legacy-23 samplers in strict mode', () => {
    const strict = image('MyCustomBridge:1:https://example.org');
    expect(strict.known).toBe(false);
    expect(strict.permissive).toBe(false);
    expect(strict.capabilities.size).toBe(0);
    expect(strict.samplers).toEqual(image(legacy(23)).samplers);
    expect(supportsSampler(strict, 'lcm', true)).toBe(false);
  });

  it('get every capability and sampler in permissive mode', () => {
    const permissive = image('MyCustomBridge:1:https://example.org', true);
    expect(permissive.known).toBe(false);
    expect(permissive.permissive).toBe(true);
    expect(permissive.capabilities).toBe(ALL_BRIDGE_CAPABILITIES);
    for (const capability of ['r2', 'lora', 'flux', 'layer_diffuse', 'qr_code', 'RestoreFormer', 'tiling']) {
      expect(permissive.capabilities.has(capability)).toBe(true);
    }
    expect(supportsSampler(permissive, 'lcm', true)).toBe(true);
    expect(supportsSampler(permissive, 'DDIM', true)).toBe(true);
  });

  it('include a known name with a version that is not a number', () => {
    const odd = image(regen('nightly'));
    expect(odd.known).toBe(false);
    expect(odd.capabilities.size).toBe(0);
    expect(odd.rewardMultiplier).toBe(0.75);
  });

  it('does not make known bridges permissive', () => {
    const known = image(regen(1), true);
    expect(known.permissive).toBe(false);
    expect(known.capabilities.has('flux')).toBe(false);
  });
});

describe('reward multipliers', () => {
  it('pays current official bridges in full, older ones 0.9, others 0.75', () => {
    expect(image(regen(13)).rewardMultiplier).toBe(1);
    expect(image(regen('14.2.0')).rewardMultiplier).toBe(1);
    expect(image(regen('9.0.1')).rewardMultiplier).toBe(0.9);
    expect(image(legacy(24)).rewardMultiplier).toBe(1);
    expect(image(legacy(23)).rewardMultiplier).toBe(0.9);
    expect(image('SD-WebUI Stable Horde Worker Bridge:4:u').rewardMultiplier).toBe(0.75);
    // our own worker node ships with the horde: full rewards from 0.x
    expect(image('hordekit-worker:0.1.0:u').rewardMultiplier).toBe(1);
    expect(image('unknown:0:unknown').rewardMultiplier).toBe(0.75);
    expect(image('unknown:0:unknown', true).rewardMultiplier).toBe(0.75);
  });

  it('pays text workers in full whatever their bridge', () => {
    expect(text('koboldcpp:1:u').rewardMultiplier).toBe(1);
    expect(text('whatever:0:u').rewardMultiplier).toBe(1);
    expect(text(legacy(20)).rewardMultiplier).toBe(1);
  });
});

describe('text backends', () => {
  it('validates the listed backends by name', () => {
    for (const name of [
      'AI Horde Worker',
      'AI Horde Worker~aphrodite~oai',
      'AI Horde Worker~aphrodite~kai',
      'KoboldCppEmbedWorker',
      'TabbyAPI',
    ]) {
      const profile = text(`${name}:1:https://example.org`);
      expect(profile.validatedTextBackend, name).toBe(true);
      expect(profile.known, name).toBe(true);
    }
  });

  it('knows but does not validate the others', () => {
    for (const name of ['KoboldAI Client', 'koboldcpp', 'hordekit-worker']) {
      const profile = text(`${name}:1:u`);
      expect(profile.known, name).toBe(true);
      expect(profile.validatedTextBackend, name).toBe(false);
    }
    expect(text('aphrodite:1:u')).toMatchObject({ known: false, validatedTextBackend: false });
    expect(text('ai horde worker:1:u').validatedTextBackend).toBe(false);
  });

  it('gives text profiles no image capabilities', () => {
    expect(text(legacy(24)).capabilities.size).toBe(0);
  });
});

describe('memoisation', () => {
  it('returns the same profile for the same agent, kind and mode', () => {
    expect(image(regen('10.1.1'))).toBe(image(regen('10.1.1')));
    expect(image(regen('10.1.1'))).not.toBe(image(regen('10.1.1'), true));
    expect(image(regen('10.1.1'))).not.toBe(text(regen('10.1.1')));
  });

  it('stays correct past the cache bound', () => {
    const first = image('flood-0:1:u');
    for (let i = 1; i <= 2000; i++) image(`flood-${i}:1:u`);
    const again = image('flood-0:1:u');
    expect(again).toEqual(first);
  });

  it('returns frozen profiles', () => {
    expect(Object.isFrozen(image(regen(9)))).toBe(true);
  });
});
