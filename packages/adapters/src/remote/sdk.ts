/**
 * The community JS SDK (`@zeldafan0225/ai_horde` 5.2.0, ecosystem §2.1), imported once for the remote
 * client. 5.2.0's `exports` map has no `types` condition, so under NodeNext TypeScript finds no typings for
 * the bare import (TS7016): the runtime import goes through the package like any user's would, and the
 * types come from the package's own `index.d.ts` through its `require` condition.
 */
// @ts-expect-error TS7016, see above
import * as untypedSdk from '@zeldafan0225/ai_horde';

type Sdk = typeof import('@zeldafan0225/ai_horde', { with: { 'resolution-mode': 'require' }});

const sdk = untypedSdk as Sdk;

export const { AIHorde, APIError } = sdk;
export type AIHorde = InstanceType<Sdk['AIHorde']>;
export type APIError = InstanceType<Sdk['APIError']>;

/** The SDK's request bodies; core's inputs are the same wire fields, typed more strictly. */
export type ImageGenerationInput = Parameters<AIHorde['postAsyncImageGenerate']>[0];
export type TextGenerationInput = Parameters<AIHorde['postAsyncTextGenerate']>[0];
