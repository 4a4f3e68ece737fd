/**
 * The OpenAPI 3.1 document, built from the route table. Schemas come out of zod's own converter
 * (`z.toJSONSchema`, input side: defaults are shown and defaulted fields are not required), so request
 * bodies are exactly what the engine validates. Named shapes go to `components.schemas` behind `$ref`s.
 */
import { z } from 'zod';
import { COMMON_HEADERS, type ErrorStatus, ROUTES, type RouteDoc, type Tag } from './route-table.js';
import { SCHEMAS } from './schemas.js';

export interface OpenApiOptions {
  /** `info.title`: the horde's name. */
  title: string;
  /** `info.version`: the server's version. */
  version: string;
  /** The one `servers` entry. @default '/' (the origin the document was fetched from) */
  serverUrl?: string;
}

type JsonSchema = Record<string, unknown>;

const SCHEMA_REF = '#/components/schemas/';
const JSON_TYPE = 'application/json';

const TAGS: Record<Tag, string> = {
  image: 'Image generation: requesters queue and poll, workers pop and submit.',
  text: 'Text generation (KoboldAI style).',
  users: 'Accounts.',
  workers: 'The machines that generate.',
  kudos: 'The priority currency.',
  status: 'Load, models and statistics.',
  dev: 'Test hordes only.',
  service: 'Outside `/api/v2`: discovery, sign-up and metrics.',
};

const DESCRIPTION = `The AI Horde API v2, served by [hordekit](https://github.com/hordekit/hordekit).

**API key.** Send it in the \`apikey\` header (not \`Authorization\`). \`0000000000\` is the anonymous \
key; get your own at [/register](/register).

**Headers.** \`Client-Agent: <name>:<version>:<contact>\` names your client (\`client_agent\` is read \
too). \`X-Fields\` masks JSON answers: \`id,kudos\` keeps two keys, \`generations{id,img}\` masks inside \
a list.

**Errors.** Every error is \`{"message": "…", "rc": "<ReturnCode>"}\`: \`rc\` is stable, \`message\` is \
for people. A body, query or header that does not match its schema is a 400 with the reason per field: \
\`{"message": "Input payload validation failed", "rc": "ValidationError", \
"errors": {"<field>": "<reason>"}}\`.

**Rate limits.** Counted per client address over fixed windows (generate requests also per API key). Each \
operation names its limit; the others share 90 a minute per address, and \`/api/v2/status/heartbeat\` is \
never limited. Limited answers carry \`X-RateLimit-Limit\`, \`X-RateLimit-Remaining\` and \
\`X-RateLimit-Reset\`; over the limit the answer is 429 \`TooManyRequests\` with \`Retry-After\` (seconds). \
Operators may change or turn off the limits. Queueing more jobs than your account's concurrency is a 429 \
too (\`TooManyPrompts\`).

**Push instead of polling.** \`GET /api/v2/generate/stream/{id}\` streams a request's progress as \
Server-Sent Events; a request's \`webhook\` URL gets a POST per result.`;

const RATE_LIMIT_HEADERS = {
  'Retry-After': { description: 'Seconds to wait.', schema: { type: 'integer' } },
  'X-RateLimit-Limit': { description: 'Requests allowed in the window.', schema: { type: 'integer' } },
  'X-RateLimit-Remaining': { description: 'Requests left in the window.', schema: { type: 'integer' } },
  'X-RateLimit-Reset': {
    description: 'When the window ends (seconds since the epoch).',
    schema: { type: 'integer' },
  },
};

const documents = new Map<string, object>();

/** The document for `options`, built on first use and kept (the route table never changes at run time). */
export function buildOpenApiDocument(options: OpenApiOptions): object {
  const key = JSON.stringify([options.title, options.version, options.serverUrl ?? '/']);
  let document = documents.get(key);
  if (!document) {
    document = build(options);
    documents.set(key, document);
  }
  return document;
}

function build(options: OpenApiOptions): object {
  const converter = createConverter();
  const paths: Record<string, Record<string, object>> = {};
  for (const route of ROUTES) {
    paths[route.path] ??= {};
    paths[route.path]![route.method] = operation(route, converter);
  }
  return {
    openapi: '3.1.0',
    info: { title: options.title, version: options.version, description: DESCRIPTION },
    servers: [{ url: options.serverUrl ?? '/' }],
    tags: Object.entries(TAGS).map(([name, description]) => ({ name, description })),
    paths,
    components: {
      schemas: converter.components,
      parameters: Object.fromEntries(
        converter.parameters('header', COMMON_HEADERS).map((p) => [p.name.replace(/-/g, ''), p]),
      ),
      securitySchemes: {
        apikey: {
          type: 'apiKey',
          in: 'header',
          name: 'apikey',
          description: 'Your API key; `0000000000` is the anonymous one.',
        },
      },
    },
  };
}

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required: boolean;
  description?: string;
  schema: JsonSchema;
}

function createConverter() {
  const registry = z.registry<{ id: string }>();
  const names = new Map<z.ZodType, string>();
  for (const [name, schema] of Object.entries(SCHEMAS)) {
    registry.add(schema, { id: name });
    names.set(schema, name);
  }
  const settings = {
    io: 'input',
    target: 'draft-2020-12',
    unrepresentable: 'any',
    override: copyGlobalMetadata,
  } as const;
  const converted = z.toJSONSchema(registry, { ...settings, uri: (id) => `${SCHEMA_REF}${id}` }).schemas;
  const components: Record<string, JsonSchema> = {};
  for (const [name, schema] of Object.entries(converted)) {
    const { $schema: _dialect, $id: _id, ...rest } = schema;
    components[name] = rest;
  }

  /** The JSON Schema of `schema`: a `$ref` for a named shape, inline (with `$ref`s inside) otherwise. */
  function schemaOf(schema: z.ZodType): JsonSchema {
    const name = names.get(schema);
    if (name) return { $ref: `${SCHEMA_REF}${name}` };
    const { $schema: _dialect, $defs, ...rest } = z.toJSONSchema(schema, { ...settings, metadata: registry });
    // With `metadata: registry`, zod inlines each named shape used inside as a `$defs` entry; those are
    // the components already, so point at them instead.
    for (const defined of Object.keys($defs ?? {})) {
      if (!components[defined]) throw new Error(`schema ${defined} is not a component`);
    }
    return JSON.parse(JSON.stringify(rest).replaceAll('"#/$defs/', `"${SCHEMA_REF}`));
  }

  /** OpenAPI parameters from an object schema, one per key. */
  function parameters(where: Parameter['in'], object: z.ZodObject | undefined): Parameter[] {
    if (!object) return [];
    const json = schemaOf(object) as { properties?: Record<string, JsonSchema>; required?: string[] };
    return Object.entries(json.properties ?? {}).map(([name, { description, ...schema }]) => ({
      name,
      in: where,
      required: where === 'path' || (json.required ?? []).includes(name),
      ...(typeof description === 'string' ? { description } : {}),
      schema,
    }));
  }

  return { components, schemaOf, parameters };
}

/**
 * zod reads `.describe()` and `.meta()` from the registry it converts with; ours only holds the component
 * names, so the descriptions (kept in zod's global registry) are copied over here, and noise is dropped.
 */
function copyGlobalMetadata(context: { zodSchema: z.core.$ZodType; jsonSchema: JsonSchema }): void {
  const { jsonSchema } = context;
  for (const [key, value] of Object.entries(z.globalRegistry.get(context.zodSchema) ?? {})) {
    if (key !== 'id' && !(key in jsonSchema)) jsonSchema[key] = value;
  }
  // `.int()` bounds every integer by the safe-integer range; on the wire that says nothing.
  if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
  if (jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete jsonSchema.minimum;
}

type Converter = ReturnType<typeof createConverter>;

function operation(route: RouteDoc, converter: Converter): object {
  const inV2 = route.path.startsWith('/api/v2/');
  const [reply] = route.replies;
  const returnsJson = reply.schema !== undefined && (reply.mediaType ?? JSON_TYPE) === JSON_TYPE;
  const declared = new Set([...route.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]));
  const pathParameters = converter.parameters('path', route.params);
  if (pathParameters.length !== declared.size || pathParameters.some((p) => !declared.has(p.name))) {
    throw new Error(`${route.method} ${route.path}: its params do not match the path`);
  }
  const parameters: object[] = [
    ...pathParameters,
    ...converter.parameters('query', route.query),
    ...converter.parameters('header', route.headers),
  ];
  if (inV2) parameters.push({ $ref: '#/components/parameters/ClientAgent' });
  if (inV2 && returnsJson) parameters.push({ $ref: '#/components/parameters/XFields' });

  const limit =
    route.rateLimit === false ? 'Never rate limited.' : route.rateLimit && `Rate limit: ${route.rateLimit}.`;
  const description = [route.description, limit].filter(Boolean).join('\n\n');
  return {
    tags: [route.tag],
    summary: route.summary,
    ...(description ? { description } : {}),
    operationId: operationId(route),
    ...(route.auth === 'required' ? { security: [{ apikey: [] }] } : {}),
    ...(route.auth === 'optional' ? { security: [{}, { apikey: [] }] } : {}),
    ...(parameters.length ? { parameters } : {}),
    ...(route.body
      ? {
          requestBody: {
            required: true,
            ...(route.body.description ? { description: route.body.description } : {}),
            content: Object.fromEntries(
              (route.body.mediaTypes ?? [JSON_TYPE]).map((type) => [
                type,
                { schema: converter.schemaOf(route.body!.schema) },
              ]),
            ),
          },
        }
      : {}),
    responses: { ...replies(route, converter), ...errorReplies(route) },
  };
}

function replies(route: RouteDoc, converter: Converter): Record<string, object> {
  const out: Record<string, object> = {};
  for (const reply of route.replies) {
    const content = reply.schema
      ? { content: { [reply.mediaType ?? JSON_TYPE]: { schema: converter.schemaOf(reply.schema) } } }
      : {};
    out[reply.status] = { description: reply.description, ...content };
  }
  return out;
}

/** The route's error answers, plus the validation and rate limit answers its kind can give. */
function errorReplies(route: RouteDoc): Record<string, object> {
  const codes = new Map<ErrorStatus, string[]>();
  const add = (status: ErrorStatus, rcs: string) => {
    codes.set(status, [...(codes.get(status) ?? []), ...rcs.split(/\s+/).filter(Boolean)]);
  };
  // A JSON body that does not match, or a required `apikey` header that is missing, as upstream.
  const jsonBody = route.body && (route.body.mediaTypes ?? [JSON_TYPE]).includes(JSON_TYPE);
  if (jsonBody || route.auth === 'required') add(400, 'ValidationError');
  for (const [status, rcs] of Object.entries(route.errors ?? {})) add(Number(status) as ErrorStatus, rcs);
  const limited =
    route.rateLimit === undefined ? route.path.startsWith('/api/v2/') : route.rateLimit !== false;
  if (limited) add(429, 'TooManyRequests');

  const out: Record<string, object> = {};
  for (const status of [...codes.keys()].sort((a, b) => a - b)) {
    const rcs = codes.get(status)!;
    const validation = rcs.includes('ValidationError');
    const examples = Object.fromEntries(
      rcs.map((rc) => [
        rc,
        {
          value:
            rc === 'ValidationError'
              ? { message: 'Input payload validation failed', rc, errors: { '<field>': '<reason>' } }
              : { message: '…', rc },
        },
      ]),
    );
    out[status] = {
      description: `Return codes: ${rcs.map((rc) => `\`${rc}\``).join(', ')}.`,
      ...(status === 429 ? { headers: RATE_LIMIT_HEADERS } : {}),
      content: {
        [JSON_TYPE]: {
          schema: validation
            ? { anyOf: [{ $ref: `${SCHEMA_REF}ValidationError` }, { $ref: `${SCHEMA_REF}Error` }] }
            : { $ref: `${SCHEMA_REF}Error` },
          examples,
        },
      },
    };
  }
  return out;
}

/** `post /api/v2/generate/status/{id}` → `postGenerateStatusById`. */
function operationId(route: RouteDoc): string {
  const words = route.path
    .replace(/^\/api\/v2\//, '/')
    .split(/[/_.-]+/)
    .filter(Boolean)
    .map((word) => word.replace(/^\{(\w+)\}$/, 'by_$1'))
    .flatMap((word) => word.split('_'));
  return route.method + words.map((word) => word[0]!.toUpperCase() + word.slice(1)).join('');
}
