/**
 * The API reference: the OpenAPI document at `/api/swagger.json` (where the public horde serves its own),
 * Swagger UI at `/api/` from the `swagger-ui-dist` package on disk (self-hosters may be offline, so no CDN),
 * and `/.well-known/serviceinfo` (spec §0.1) for clients that discover a horde's API.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Hono } from 'hono';
import { buildOpenApiDocument } from '../docs/openapi.js';
import type { ServerEnv } from '../http/env.js';
import { HttpError } from '../http/errors.js';
import type { RouteDeps } from '../server.js';
import { SERVER_VERSION } from '../version.js';

const localRequire = createRequire(import.meta.url);
const REPOSITORY = 'https://github.com/hordekit/hordekit';
const ASSET_PATH = '/api/assets/swagger-ui';

/** The only files served from the package: a name not listed here is a 404, whatever it contains. */
const ASSETS: ReadonlyMap<string, string> = new Map([
  ['swagger-ui.css', 'text/css; charset=utf-8'],
  ['swagger-ui-bundle.js', 'text/javascript; charset=utf-8'],
  ['swagger-ui-standalone-preset.js', 'text/javascript; charset=utf-8'],
  ['favicon-32x32.png', 'image/png'],
]);

export function docsRoutes(deps: RouteDeps): Hono<ServerEnv> {
  const app = new Hono<ServerEnv>();
  const { name, publicUrl } = deps.options;
  let documentJson: string | undefined;
  const page = referencePage(name);
  const assets = new Map<string, Promise<Uint8Array<ArrayBuffer>>>();

  app.get('/api/swagger.json', (c) => {
    documentJson ??= JSON.stringify(
      buildOpenApiDocument({ title: name, version: SERVER_VERSION, serverUrl: publicUrl }),
    );
    return c.body(documentJson, 200, { 'Content-Type': 'application/json; charset=utf-8' });
  });

  app.get('/api', (c) => c.html(page));
  app.get('/api/', (c) => c.html(page));

  app.get(`${ASSET_PATH}/:file`, async (c) => {
    const file = c.req.param('file');
    const type = ASSETS.get(file);
    if (!type) throw new HttpError('NotFound', 'There is no such file in the API reference.');
    let data = assets.get(file);
    if (!data) {
      data = readAsset(file);
      assets.set(file, data);
      // A failed read is not kept: the next request tries again.
      data.catch(() => assets.delete(file));
    }
    return c.body(await data, 200, { 'Content-Type': type, 'Cache-Control': 'public, max-age=86400' });
  });

  app.get('/.well-known/serviceinfo', (c) => {
    const origin = publicUrl ?? new URL(c.req.url).origin;
    return c.json({
      software: { name: 'hordekit', version: SERVER_VERSION, repository: REPOSITORY, homepage: REPOSITORY },
      api: {
        aihorde: {
          name,
          version: '2.5',
          base_url: origin,
          rel_url: '/api/v2',
          documentation: `${origin}/api/`,
        },
      },
    });
  });

  return app;
}

async function readAsset(file: string): Promise<Uint8Array<ArrayBuffer>> {
  const packageJson = localRequire.resolve('swagger-ui-dist/package.json');
  return new Uint8Array(await readFile(join(dirname(packageJson), file)));
}

function referencePage(name: string): string {
  const title = escapeHtml(`${name}: API reference`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="stylesheet" href="${ASSET_PATH}/swagger-ui.css">
<link rel="icon" type="image/png" href="${ASSET_PATH}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="${ASSET_PATH}/swagger-ui-bundle.js"></script>
<script src="${ASSET_PATH}/swagger-ui-standalone-preset.js"></script>
<script>
window.ui = SwaggerUIBundle({
  url: '/api/swagger.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: 'StandaloneLayout',
});
</script>
</body>
</html>
`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
