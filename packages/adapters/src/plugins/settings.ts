/**
 * `/settings` (admins of the place only, answered privately): without arguments, the place's settings in
 * words; `/settings <name> <value>` changes one (`cooldown 30`, `models Deliberate,stable_diffusion`,
 * `ban word`…), validated by `PlaceSettingsSchema`. A bad value is answered with what is allowed.
 */
import type { CommandContext } from '../framework/context.js';
import { defineCommand, definePlugin, type PluginDefinition } from '../framework/define.js';
import { UserError } from '../framework/errors.js';
import {
  type PlaceSettings,
  type PlaceSettingsInput,
  PlaceSettingsSchema,
  type SettingsStore,
} from '../framework/settings.js';

export interface SettingsPluginOptions {
  /** Where the settings are kept: the same `SettingsStore` given to `createChatApp({ settings })`. */
  store: SettingsStore;
}

const shape = PlaceSettingsSchema.shape;
const range = (field: 'cooldownSeconds' | 'maxImages' | 'maxSteps' | 'maxConcurrent') => {
  const number = shape[field].unwrap();
  return { min: number.minValue ?? 0, max: number.maxValue ?? Number.MAX_SAFE_INTEGER };
};
const MAX_WORD = shape.bannedWords.unwrap().element.maxLength ?? 50;
const MAX_MODEL = shape.allowedModels.unwrap().element.maxLength ?? 100;

interface Setting {
  /** What an admin types. */
  name: string;
  /** The current value, in words. */
  show(settings: PlaceSettings): string;
  /** What may be given, for the listing and for refusals. */
  allowed: string;
  /** The change `value` asks for; throws `UserError` for a value that cannot be read at all. */
  change(value: string, settings: PlaceSettings): PlaceSettingsInput;
}

function integerSetting(
  name: string,
  field: 'cooldownSeconds' | 'maxImages' | 'maxSteps' | 'maxConcurrent',
  unit: (value: number) => string,
  suffix = '',
): Setting {
  const { min, max } = range(field);
  const allowed = `a whole number from ${min} to ${max}${suffix}`;
  return {
    name,
    allowed,
    show: (settings) => unit(settings[field]),
    change(value) {
      const match = /^(\d{1,7})\s*s?$/i.exec(value);
      if (!match) throw new UserError(`\`${name}\` must be ${allowed}.`);
      return { [field]: Number(match[1]) };
    },
  };
}

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;
const list = (values: readonly string[]) => (values.length === 0 ? '' : values.join(', '));
const ANY = new Set(['any', 'all', '*']);
const NONE = new Set(['none', 'any', 'off', '-']);

const SETTINGS: readonly Setting[] = [
  integerSetting(
    'cooldown',
    'cooldownSeconds',
    (seconds) => `${seconds} s between two pictures of one person`,
    ' (seconds)',
  ),
  {
    name: 'models',
    allowed: `model names separated by commas, or \`any\``,
    show: (settings) => list(settings.allowedModels) || 'any model',
    change(value) {
      if (ANY.has(value.toLowerCase())) return { allowedModels: [] };
      const names = [
        ...new Set(
          value
            .split(',')
            .map((name) => name.trim())
            .filter(Boolean),
        ),
      ];
      if (names.length === 0)
        throw new UserError('`models` needs model names separated by commas, or `any`.');
      const long = names.find((name) => name.length > MAX_MODEL);
      if (long) throw new UserError(`A model name has at most ${MAX_MODEL} characters.`);
      return { allowedModels: names };
    },
  },
  {
    name: 'default-model',
    allowed: 'a model name, or `none` (the horde picks)',
    show: (settings) => settings.defaultModel ?? 'none (the horde picks)',
    change: (value) =>
      NONE.has(value.toLowerCase()) ? { defaultModel: undefined } : { defaultModel: value },
  },
  integerSetting('max-images', 'maxImages', (count) => `${plural(count, 'picture')} per /draw at most`),
  integerSetting('max-steps', 'maxSteps', (count) => `${plural(count, 'step')} at most`),
  integerSetting(
    'concurrent',
    'maxConcurrent',
    (count) => `${plural(count, 'request')} waiting per person at most`,
  ),
  {
    name: 'adult',
    allowed: '`on` or `off`',
    show: (settings) =>
      settings.adult
        ? 'on: adult content is allowed everywhere here'
        : 'off: only where the platform marks a channel adult (Discord age-restricted channels)',
    change(value) {
      const text = value.toLowerCase();
      if (['on', 'yes', 'true', '1'].includes(text)) return { adult: true };
      if (['off', 'no', 'false', '0'].includes(text)) return { adult: false };
      throw new UserError('`adult` must be `on` or `off`.');
    },
  },
  {
    name: 'sfw',
    allowed:
      '`censor` (adult pictures are blurred by the horde) or `refuse` (adult-looking prompts are refused)',
    show: (settings) =>
      settings.sfwPolicy === 'censor'
        ? 'censor: outside adult places, adult pictures are censored by the horde'
        : 'refuse: outside adult places, adult-looking prompts are refused',
    change: (value) => ({ sfwPolicy: value.toLowerCase() as PlaceSettings['sfwPolicy'] }),
  },
  {
    name: 'ban',
    allowed: `a word or phrase of up to ${MAX_WORD} characters`,
    show: (settings) => list(settings.bannedWords) || 'none',
    change(value, settings) {
      if (settings.bannedWords.some((word) => word.toLowerCase() === value.toLowerCase())) {
        throw new UserError(`“${value}” is already banned here.`);
      }
      return { bannedWords: [...settings.bannedWords, value] };
    },
  },
  {
    name: 'unban',
    allowed: 'a banned word or phrase',
    show: (settings) => list(settings.bannedWords) || 'none',
    change(value, settings) {
      const kept = settings.bannedWords.filter((word) => word.toLowerCase() !== value.toLowerCase());
      if (kept.length === settings.bannedWords.length) {
        throw new UserError(
          `“${value}” is not banned here. Banned now: ${list(settings.bannedWords) || 'nothing'}.`,
        );
      }
      return { bannedWords: kept };
    },
  },
];

const byName = new Map(SETTINGS.map((setting) => [setting.name, setting]));
const NAMES = SETTINGS.map((setting) => setting.name);

function overview(settings: PlaceSettings): string {
  const lines = SETTINGS.filter((setting) => setting.name !== 'unban').map((setting) =>
    setting.name === 'ban'
      ? `banned words: ${setting.show(settings)} — \`ban <word>\`, \`unban <word>\``
      : `${setting.name}: ${setting.show(settings)} — ${setting.allowed}`,
  );
  return ['Settings here (change one with /settings <name> <value>):', ...lines].join('\n');
}

/** The setting and value asked for: Discord gives both; text platforms give "cooldown 30" as the value. */
function request(options: { setting: string | undefined; value: string | undefined }) {
  if (options.setting) return { name: options.setting, value: options.value?.trim() ?? '' };
  const text = options.value?.trim() ?? '';
  if (!text) return undefined;
  const space = text.search(/\s/);
  const name = (space === -1 ? text : text.slice(0, space)).toLowerCase();
  return { name, value: space === -1 ? '' : text.slice(space + 1).trim() };
}

/** Names of `models` no worker serves now, to warn about a typo. */
async function unserved(context: CommandContext, names: readonly string[]): Promise<string[]> {
  const served = await context.horde.client.models('image').catch(() => undefined);
  if (!served) return [];
  const online = new Set(served.filter((model) => model.count > 0).map((model) => model.name));
  return names.filter((name) => !online.has(name));
}

export function settingsPlugin(options: SettingsPluginOptions): PluginDefinition {
  const settings = defineCommand({
    name: 'settings',
    description: 'Show or change this place’s settings (admins)',
    adminOnly: true,
    private: true,
    options: {
      setting: {
        type: 'choice',
        description: 'The setting to change',
        choices: NAMES.map((name) => ({ name, value: name })),
      },
      value: { type: 'string', description: 'Its new value', maxLength: 2000 },
    },
    async handler(context) {
      const asked = request(context.options);
      const current = await options.store.get(context.where);
      if (!asked) {
        await context.ephemeral(overview(current));
        return;
      }
      const setting = byName.get(asked.name);
      if (!setting) {
        throw new UserError(`There is no setting “${asked.name}”. Settings: ${NAMES.join(', ')}.`);
      }
      if (!asked.value) {
        await context.ephemeral(
          `${setting.name}: ${setting.show(current)}. Change it with /settings ${setting.name} <value>: ${setting.allowed}.`,
        );
        return;
      }
      const change = setting.change(asked.value, current);
      const parsed = PlaceSettingsSchema.safeParse({ ...current, ...change });
      if (!parsed.success) throw new UserError(`\`${setting.name}\` must be ${setting.allowed}.`);
      const next = parsed.data;
      if (
        next.defaultModel &&
        next.allowedModels.length > 0 &&
        !next.allowedModels.includes(next.defaultModel)
      ) {
        throw new UserError(
          setting.name === 'default-model'
            ? `${next.defaultModel} is not among the models allowed here (${list(next.allowedModels)}). Allow it first, or pick one of those.`
            : `The default model ${next.defaultModel} would not be allowed any more. Include it, or change default-model first.`,
        );
      }
      const saved = await options.store.update(context.where, change);
      const lines = [
        setting.name === 'ban' || setting.name === 'unban'
          ? `Banned words here now: ${setting.show(saved)}.`
          : `${setting.name} is now: ${setting.show(saved)}.`,
      ];
      if (setting.name === 'models' && saved.allowedModels.length > 0) {
        const missing = await unserved(context, saved.allowedModels);
        if (missing.length > 0) {
          lines.push(`No worker serves ${list(missing)} right now (check the spelling with /models).`);
        }
      }
      await context.ephemeral(lines.join(' '));
    },
  });
  return definePlugin({ name: 'settings', commands: [settings] });
}
