/**
 * From a worker's `bridge_agent` string to what the engine may send it: capabilities, samplers, reward
 * multiplier and text validation (spec §2.3, §2.4, §3.3). Workers pop about once a second with the same
 * agent, so profiles are memoised.
 */
import { SAMPLERS } from '../requests/schemas.js';
import {
  IMAGE_BRIDGES,
  type ImageBridgeEntry,
  KNOWN_TEXT_BRIDGES,
  UNKNOWN_BRIDGE_SAMPLERS_FROM,
  VALIDATED_TEXT_BACKENDS,
} from './bridge-table.js';
import type { BridgeAgent, BridgeCapability, BridgeProfile } from './types.js';

/**
 * Splits `name:version:url`. The name is everything before the first `:` (`unknown` when empty), the
 * version the text up to the second `:`, the url the rest (it may contain colons itself). The version is
 * its integer major part (`9.0.1` → 9, `24` → 24, `9.0.1-beta` → 9) or null when it does not start like a
 * number. Missing parts are empty rather than errors: this never throws.
 */
export function parseBridgeAgent(raw: string): BridgeAgent {
  const text = typeof raw === 'string' ? raw : '';
  const [name = '', rest] = splitOnce(text);
  const [version = '', url = ''] = rest === undefined ? [] : splitOnce(rest);
  return Object.freeze({
    name: name.trim() || 'unknown',
    version: parseMajorVersion(version.trim()),
    url: url.trim(),
    raw: text,
  });
}

/** The features of the worker's pop that a bridge profile may take into account. */
export interface DeclaredWorkerFeatures {
  img2img?: boolean;
  painting?: boolean;
  postProcessing?: boolean;
  lora?: boolean;
  controlnet?: boolean;
  sdxlControlnet?: boolean;
}

export interface BridgeProfileOptions {
  /** The kind of worker: text workers are only checked for validation and always earn ×1.0. */
  kind: 'image' | 'text';
  /**
   * For image bridges not in the table: true grants every capability any known bridge has, and every
   * sampler (the worker's own `allow_*` flags still gate jobs at match time); false grants none, and
   * the samplers of `AI Horde Worker` 23, as the public horde does.
   */
  permissiveUnknownBridges: boolean;
  /**
   * The `allow_*` flags of the pop. They do not change the profile (the engine checks them at match
   * time, for every bridge alike), so profiles stay shareable between workers with the same agent.
   */
  declared?: DeclaredWorkerFeatures;
}

/** Profiles kept for reuse; the oldest unused one is dropped beyond this. */
export const BRIDGE_PROFILE_CACHE_SIZE = 512;
const profileCache = new Map<string, BridgeProfile>();

/**
 * What a worker announcing `raw` as its `bridge_agent` can be sent and earns.
 *
 * A known image bridge gets the table's capabilities and samplers for its major version. An agent whose
 * name is known but whose version is not a number is treated as unknown (as upstream does). The reward
 * multiplier is ×1.0 for `AI Horde Worker reGen` ≥ 13 and `AI Horde Worker` ≥ 24, ×0.9 for their older
 * versions, ×0.75 for every other image bridge, and ×1.0 for text workers.
 */
export function bridgeProfile(raw: string, options: BridgeProfileOptions): BridgeProfile {
  const key = `${options.kind}:${options.permissiveUnknownBridges ? 'p' : 's'}:${raw}`;
  const cached = profileCache.get(key);
  if (cached) {
    // Re-insert so that the map's insertion order is least recently used first.
    profileCache.delete(key);
    profileCache.set(key, cached);
    return cached;
  }
  const agent = parseBridgeAgent(raw);
  const profile = Object.freeze(
    options.kind === 'text' ? textProfile(agent) : imageProfile(agent, options.permissiveUnknownBridges),
  );
  profileCache.set(key, profile);
  if (profileCache.size > BRIDGE_PROFILE_CACHE_SIZE) {
    const oldest = profileCache.keys().next().value;
    if (oldest !== undefined) profileCache.delete(oldest);
  }
  return profile;
}

/** Whether the bridge can run `sampler` with the given karras setting. */
export function supportsSampler(profile: BridgeProfile, sampler: string, karras: boolean): boolean {
  return (karras ? profile.samplers.karras : profile.samplers.plain).has(sampler);
}

const NO_CAPABILITIES: ReadonlySet<BridgeCapability> = new Set();
const NO_SAMPLERS = { karras: new Set<string>(), plain: new Set<string>() };
const ALL_SAMPLERS = { karras: new Set<string>(SAMPLERS), plain: new Set<string>(SAMPLERS) };
const VALIDATED: ReadonlySet<string> = new Set(VALIDATED_TEXT_BACKENDS);
const KNOWN_TEXT: ReadonlySet<string> = new Set(KNOWN_TEXT_BRIDGES);

/** Every capability of every image bridge in the table: what a permissive horde grants unknown bridges. */
export const ALL_BRIDGE_CAPABILITIES: ReadonlySet<BridgeCapability> = new Set(
  Object.values(IMAGE_BRIDGES).flatMap((entry) => Object.values(entry.capabilities).flat()),
);

function imageProfile(agent: BridgeAgent, permissiveUnknownBridges: boolean): BridgeProfile {
  const entry = Object.hasOwn(IMAGE_BRIDGES, agent.name) ? IMAGE_BRIDGES[agent.name] : undefined;
  const validatedTextBackend = VALIDATED.has(agent.name);
  if (entry && agent.version !== null) {
    return {
      agent,
      known: true,
      permissive: false,
      capabilities: capabilitiesAt(entry, agent.version),
      samplers: samplersAt(entry, agent.version),
      rewardMultiplier: rewardMultiplier(entry, agent.version),
      validatedTextBackend,
    };
  }
  const unknownSamplers = IMAGE_BRIDGES[UNKNOWN_BRIDGE_SAMPLERS_FROM.name];
  return {
    agent,
    known: false,
    permissive: permissiveUnknownBridges,
    capabilities: permissiveUnknownBridges ? ALL_BRIDGE_CAPABILITIES : NO_CAPABILITIES,
    samplers: permissiveUnknownBridges
      ? ALL_SAMPLERS
      : unknownSamplers
        ? samplersAt(unknownSamplers, UNKNOWN_BRIDGE_SAMPLERS_FROM.version)
        : NO_SAMPLERS,
    rewardMultiplier: 0.75,
    validatedTextBackend,
  };
}

function textProfile(agent: BridgeAgent): BridgeProfile {
  return {
    agent,
    known: KNOWN_TEXT.has(agent.name),
    permissive: false,
    capabilities: NO_CAPABILITIES,
    samplers: NO_SAMPLERS,
    rewardMultiplier: 1,
    validatedTextBackend: VALIDATED.has(agent.name),
  };
}

function capabilitiesAt(entry: ImageBridgeEntry, version: number): ReadonlySet<BridgeCapability> {
  const capabilities = new Set<BridgeCapability>();
  for (const [since, added] of Object.entries(entry.capabilities)) {
    if (Number(since) <= version) for (const capability of added) capabilities.add(capability);
  }
  return capabilities;
}

function samplersAt(entry: ImageBridgeEntry, version: number): BridgeProfile['samplers'] {
  const karras = new Set<string>();
  const plain = new Set<string>();
  for (const [since, step] of Object.entries(entry.samplers)) {
    if (Number(since) > version) continue;
    for (const sampler of step.any ?? []) {
      karras.add(sampler);
      plain.add(sampler);
    }
    for (const sampler of step.plainOnly ?? []) plain.add(sampler);
  }
  return { karras, plain };
}

function rewardMultiplier(entry: ImageBridgeEntry, version: number): number {
  if (entry.fullRewardFrom === undefined) return 0.75;
  return version >= entry.fullRewardFrom ? 1 : 0.9;
}

function splitOnce(text: string): [string, string | undefined] {
  const at = text.indexOf(':');
  return at === -1 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}

function parseMajorVersion(version: string): number | null {
  const match = /^(\d+)(?:\.\d+)*(?:[-+][0-9A-Za-z.+-]*)?$/.exec(version);
  if (!match?.[1]) return null;
  const major = Number(match[1]);
  return Number.isSafeInteger(major) ? major : null;
}
