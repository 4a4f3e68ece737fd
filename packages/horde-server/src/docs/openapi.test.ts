import { Hono } from 'hono';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { ServerEnv } from '../http/env.js';
import { createErrorHandler, onNotFound } from '../http/errors.js';
import { docsRoutes } from '../routes/docs.js';
import type { RouteDeps } from '../server.js';
import { ROUTES } from './route-table.js';

type Json = Record<string, unknown>;

function createApp(name = 'Test Horde') {
  // The docs routes read nothing but the options.
  const deps = { options: { name, publicUrl: undefined } } as unknown as RouteDeps;
  const app = new Hono<ServerEnv>();
  app.onError(createErrorHandler(pino({ level: 'silent' })));
  app.notFound(onNotFound);
  app.route('/', docsRoutes(deps));
  return app;
}

async function fetchDocument(): Promise<Json> {
  const response = await createApp().request('/api/swagger.json');
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  return (await response.json()) as Json;
}

/** The value at `keys` inside parsed JSON, `undefined` where the path breaks off. */
function at(value: unknown, ...keys: string[]): unknown {
  for (const key of keys) value = value && typeof value === 'object' ? (value as Json)[key] : undefined;
  return value;
}

/** A schema, with a local `$ref` (`#/components/schemas/X`) followed to its target. */
function resolve(document: Json, schema: unknown): Json {
  const ref = at(schema, '$ref');
  const target = typeof ref === 'string' ? at(document, ...ref.slice(2).split('/')) : schema;
  expect(target, String(ref)).toBeTypeOf('object');
  return target as Json;
}

describe('GET /api/swagger.json', () => {
  it('is an OpenAPI 3.1 document with every endpoint of the route table', async () => {
    const document = await fetchDocument();
    expect(document.openapi).toMatch(/^3\.1\.\d+$/);
    expect(document.info).toMatchObject({ title: 'Test Horde', version: expect.any(String) });
    expect(at(document, 'components', 'securitySchemes', 'apikey')).toEqual(
      expect.objectContaining({ type: 'apiKey', in: 'header', name: 'apikey' }),
    );
    for (const route of ROUTES) {
      expect(at(document, 'paths', route.path, route.method), `${route.method} ${route.path}`).toBeDefined();
    }
    expect(Object.keys(at(document, 'paths') as Json)).toEqual(
      expect.arrayContaining(['/api/v2/generate/async', '/metrics']),
    );
  });

  it('describes the image request body with the engine schema: fields, limits, defaults', async () => {
    const document = await fetchDocument();
    const operation = at(document, 'paths', '/api/v2/generate/async', 'post') as Json;
    const body = resolve(document, at(operation, 'requestBody', 'content', 'application/json', 'schema'));
    expect(Object.keys(body.properties as Json)).toEqual(
      expect.arrayContaining(['prompt', 'params', 'models', 'r2', 'dry_run', 'webhook']),
    );
    expect(body.required).toEqual(['prompt']);
    expect(at(body, 'properties', 'models', 'default')).toEqual(['stable_diffusion']);
    const params = resolve(document, at(body, 'properties', 'params'));
    expect(at(params, 'properties', 'width')).toMatchObject({
      type: 'integer',
      multipleOf: 64,
      minimum: 64,
      maximum: 3072,
    });
    expect(Object.keys(operation.responses as Json)).toEqual(
      expect.arrayContaining(['200', '202', '400', '401', '429']),
    );
    expect(operation.security).toEqual([{ apikey: [] }]);
  });

  it('uses wire names and resolvable references throughout', async () => {
    const document = await fetchDocument();
    const changes = resolve(
      document,
      at(
        document,
        'paths',
        '/api/v2/users/{id}',
        'put',
        'requestBody',
        'content',
        'application/json',
        'schema',
      ),
    );
    expect(changes.properties).toHaveProperty('public_workers');
    expect(changes.properties).not.toHaveProperty('publicWorkers');
    const references = JSON.stringify(document).match(/"\$ref":"[^"]+"/g) ?? [];
    expect(references.length).toBeGreaterThan(50);
    for (const reference of new Set(references)) resolve(document, JSON.parse(`{${reference}}`));
  });

  it('is built once', async () => {
    const app = createApp();
    const first = await (await app.request('/api/swagger.json')).text();
    expect(await (await app.request('/api/swagger.json')).text()).toBe(first);
  });
});

describe('GET /api/', () => {
  it('is a Swagger UI page on local assets', async () => {
    for (const path of ['/api/', '/api']) {
      const response = await createApp('A <b>horde</b>').request(path);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      const html = await response.text();
      expect(html).toContain('/api/assets/swagger-ui/swagger-ui-bundle.js');
      expect(html).toContain("'/api/swagger.json'");
      expect(html).toContain('A &#60;b&#62;horde&#60;/b&#62;');
      expect(html).not.toMatch(/(src|href)="https?:/);
    }
  });

  it('serves the whitelisted assets with their types and a day of caching', async () => {
    const app = createApp();
    const script = await app.request('/api/assets/swagger-ui/swagger-ui-bundle.js');
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(script.headers.get('cache-control')).toBe('public, max-age=86400');
    expect((await script.text()).length).toBeGreaterThan(100_000);
    const style = await app.request('/api/assets/swagger-ui/swagger-ui.css');
    expect(style.headers.get('content-type')).toMatch(/^text\/css/);
    const icon = await app.request('/api/assets/swagger-ui/favicon-32x32.png');
    expect(icon.headers.get('content-type')).toBe('image/png');
  });

  it('serves nothing else from the package', async () => {
    const app = createApp();
    for (const path of [
      '/api/assets/swagger-ui/../../package.json',
      '/api/assets/swagger-ui/..%2F..%2Fpackage.json',
      '/api/assets/swagger-ui/%2e%2e%2fpackage.json',
      '/api/assets/swagger-ui/package.json',
      '/api/assets/swagger-ui/index.html',
      '/api/assets/swagger-ui/swagger-ui.js.map',
      '/api/assets/swagger-ui/',
    ]) {
      const response = await app.request(path);
      expect(response.status, path).toBe(404);
      expect(await response.json()).toMatchObject({ rc: 'NotFound' });
    }
  });
});

describe('GET /.well-known/serviceinfo', () => {
  it('names the software and where the API and its reference live', async () => {
    const response = await createApp().request('http://horde.example:7001/.well-known/serviceinfo');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      software: {
        name: 'hordekit',
        version: expect.stringMatching(/^\d+\.\d+\.\d+/),
        repository: 'https://github.com/hordekit/hordekit',
        homepage: expect.any(String),
      },
      api: {
        aihorde: {
          name: 'Test Horde',
          version: '2.5',
          base_url: 'http://horde.example:7001',
          rel_url: '/api/v2',
          documentation: 'http://horde.example:7001/api/',
        },
      },
    });
  });
});
