/**
 * A fake OpenAI images API (`POST /v1/images/generations`) on loopback. It answers like OpenAI: a
 * `{created, data: [{b64_json} | {url}]}` body, and `{error: {message, type, param, code}}` with 401 for a
 * wrong key and 400 for an unsupported size, too many images, or `response_format` sent to a gpt-image
 * model. Images are `fakePng` at the requested size; the seed is the request's number (1, 2, …).
 */
import { randomUUID } from 'node:crypto';
import { fakePng } from './fake-a1111.js';
import { type FakeReply, type FakeRoute, type HttpFake, startHttpFake } from './http-fake.js';

export interface FakeOpenAiImagesOptions {
  /** When set, requests must carry `Authorization: Bearer <apiKey>`. @default any key, or none */
  apiKey?: string;
  /** The only sizes accepted (`'1024x1024'`, …). @default any WIDTHxHEIGHT */
  sizes?: string[];
  /** The largest `n`. @default 10 */
  maxImages?: number;
  /** Answer with URLs even when asked for base64, as some compatible servers do. @default false */
  answerWithUrls?: boolean;
}

export type FakeOpenAiImages = HttpFake;

export async function startFakeOpenAiImages(
  options: FakeOpenAiImagesOptions = {},
): Promise<FakeOpenAiImages> {
  const maxImages = options.maxImages ?? 10;
  let requestNumber = 0;
  const routes: Record<string, FakeRoute> = {};

  routes['POST /v1/images/generations'] = async (call) => {
    if (options.apiKey !== undefined && call.headers.authorization !== `Bearer ${options.apiKey}`) {
      const message = call.headers.authorization
        ? 'Incorrect API key provided.'
        : "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth.";
      return openAiError(401, message, 'invalid_api_key', null);
    }
    const body = (call.body ?? {}) as {
      model?: string;
      prompt?: unknown;
      n?: number;
      size?: string;
      response_format?: string;
    };
    if (typeof body.prompt !== 'string' || body.prompt === '') {
      return openAiError(
        400,
        "Missing required parameter: 'prompt'.",
        'missing_required_parameter',
        'prompt',
      );
    }
    const gptImage = String(body.model ?? '').startsWith('gpt-image');
    if (gptImage && body.response_format !== undefined) {
      return openAiError(
        400,
        "Unknown parameter: 'response_format'.",
        'unknown_parameter',
        'response_format',
      );
    }
    const size = body.size ?? '1024x1024';
    const match = /^(\d+)x(\d+)$/.exec(size);
    if (!match || (options.sizes && !options.sizes.includes(size))) {
      const allowed = (options.sizes ?? []).map((each) => `'${each}'`).join(', ');
      return openAiError(
        400,
        `Invalid value: '${size}'. Supported values are: ${allowed}.`,
        'invalid_value',
        'size',
      );
    }
    const n = body.n ?? 1;
    if (!Number.isInteger(n) || n < 1 || n > maxImages) {
      return openAiError(
        400,
        `Invalid 'n': integer above maximum value. Expected a value <= ${maxImages}, but got ${n} instead.`,
        'integer_above_max_value',
        'n',
      );
    }

    requestNumber += 1;
    const [width, height] = [Number(match[1]), Number(match[2])];
    const data = [];
    for (let index = 0; index < n; index += 1) {
      const image = await fakePng(width, height, requestNumber, index);
      // dall-e answers with URLs unless asked for base64; gpt-image always answers base64.
      const base64 = gptImage || (body.response_format === 'b64_json' && !options.answerWithUrls);
      if (base64) data.push({ b64_json: image.toString('base64') });
      else data.push({ url: serveFile(image) });
    }
    return { body: { created: Math.floor(Date.now() / 1000), data } };
  };

  const fake = await startHttpFake(routes);
  function serveFile(image: Buffer): string {
    const path = `/files/${randomUUID()}.png`;
    routes[`GET ${path}`] = () => ({ body: image, contentType: 'image/png' });
    return `${fake.url}${path}`;
  }
  return fake;
}

function openAiError(status: number, message: string, code: string, param: string | null): FakeReply {
  return { status, body: { error: { message, type: 'invalid_request_error', param, code } } };
}
