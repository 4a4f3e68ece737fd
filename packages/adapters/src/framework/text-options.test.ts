import { describe, expect, it } from 'vitest';
import { parseTextOptions, tokenize } from './text-options.js';

const specs = {
  prompt: { type: 'string', description: 'What to draw', required: true },
  negative: { type: 'string', description: 'Not this' },
  count: { type: 'integer', description: 'How many' },
  nsfw: { type: 'boolean', description: 'Adult' },
} as const;

describe('options from free text', () => {
  it('gives the words to the main option and flags to theirs', () => {
    expect(parseTextOptions(specs, 'a red fox --count 2 --negative "blurry, text"')).toEqual({
      prompt: 'a red fox',
      count: '2',
      negative: 'blurry, text',
    });
  });

  it('takes name:value, --name=value and bare boolean flags', () => {
    expect(parseTextOptions(specs, 'count:3 a cat --nsfw --negative=dogs')).toEqual({
      prompt: 'a cat',
      count: '3',
      nsfw: true,
      negative: 'dogs',
    });
  });

  it('keeps unknown flags and colons as words of the prompt', () => {
    expect(parseTextOptions(specs, 'style:cinematic a --wide shot')).toEqual({
      prompt: 'style:cinematic a --wide shot',
    });
  });

  it('fills the options in order when the command has no text option', () => {
    const transfer = {
      to: { type: 'user', description: 'Who', required: true },
      amount: { type: 'integer', description: 'How many', required: true },
    } as const;
    expect(parseTextOptions(transfer, 'U0BOB 20')).toEqual({ to: 'U0BOB', amount: '20' });
    expect(parseTextOptions(transfer, '--amount 5 U0BOB')).toEqual({ to: 'U0BOB', amount: '5' });
  });

  it('splits on spaces outside straight and curly quotes', () => {
    expect(tokenize(`a "b c" 'd e' “f g”`)).toEqual(['a', 'b c', 'd e', 'f g']);
    expect(parseTextOptions(specs, '')).toEqual({});
  });

  it('sends words naming a person to the user option, and keeps preset values', () => {
    const transfer = {
      amount: { type: 'integer', description: 'How many', required: true },
      to: { type: 'user', description: 'Who', required: true },
    } as const;
    const isPerson = (word: string) => word.startsWith('@');
    expect(parseTextOptions(transfer, '20 @bob', { isPerson })).toEqual({ amount: '20', to: '@bob' });
    expect(parseTextOptions(transfer, '@bob 20', { isPerson })).toEqual({ amount: '20', to: '@bob' });
    expect(parseTextOptions(transfer, '20', { preset: { to: '42' } })).toEqual({ amount: '20', to: '42' });
  });
});
