/**
 * Option values as platforms deliver them (Discord typed values, Telegram and Slack free text) checked
 * against a command's specs. A bad value is a `UserError` that says which option and what is allowed.
 */
import type { OptionSpec, OptionSpecs } from './define.js';
import { UserError } from './errors.js';

export function parseOptions(
  specs: OptionSpecs,
  raw: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const value = raw[name];
    if (value === undefined || value === null || value === '') {
      if (spec.required) throw new UserError(`Please give \`${name}\` (${spec.description}).`);
      continue;
    }
    values[name] = parseValue(name, spec, value);
  }
  return values;
}

function parseValue(name: string, spec: OptionSpec, value: unknown): unknown {
  switch (spec.type) {
    case 'string': {
      const text = String(value).trim();
      if (spec.maxLength !== undefined && text.length > spec.maxLength) {
        throw new UserError(
          `\`${name}\` can be at most ${spec.maxLength} characters (it has ${text.length}).`,
        );
      }
      return text;
    }
    case 'integer': {
      const number = typeof value === 'number' ? value : Number(String(value).trim());
      if (!Number.isInteger(number)) throw new UserError(`\`${name}\` must be a whole number.`);
      if ((spec.min !== undefined && number < spec.min) || (spec.max !== undefined && number > spec.max)) {
        throw new UserError(`\`${name}\` must be between ${spec.min ?? '−∞'} and ${spec.max ?? '∞'}.`);
      }
      return number;
    }
    case 'choice': {
      const text = String(value).trim().toLowerCase();
      const choice = spec.choices.find(
        (option) => option.value.toLowerCase() === text || option.name.toLowerCase() === text,
      );
      if (!choice) {
        throw new UserError(
          `\`${name}\` must be one of: ${spec.choices.map((option) => option.value).join(', ')}.`,
        );
      }
      return choice.value;
    }
    case 'boolean': {
      if (typeof value === 'boolean') return value;
      const text = String(value).trim().toLowerCase();
      if (['true', 'yes', 'on', '1'].includes(text)) return true;
      if (['false', 'no', 'off', '0'].includes(text)) return false;
      throw new UserError(`\`${name}\` must be yes or no.`);
    }
    case 'user':
      return String(value).trim();
  }
}
