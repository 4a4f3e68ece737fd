/**
 * `/register`: a pseudonymous account from a username (spec §0.1). People get an HTML form and a page
 * that shows the key once; programs POST JSON `{ "username": … }` and get the key in JSON. Only the
 * key's hash is stored, so a lost key means a new account (or a key rotation by an admin).
 */
import { Hono } from 'hono';
import { html, raw } from 'hono/html';
import { readJson } from '../http/body.js';
import type { ServerEnv } from '../http/env.js';
import { validationFailed } from '../http/errors.js';
import { reply } from '../http/respond.js';
import type { RouteDeps } from '../server.js';
import { limit } from './shared.js';

const STYLE = raw(`<style>
body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.5;color:#222}
input,button{font-size:1rem;padding:.4rem .6rem}code{background:#f3f3f3;padding:.2rem .4rem;font-size:1.1rem;word-break:break-all}
.error{color:#a00}</style>`);

function page(title: string, body: ReturnType<typeof html>) {
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title>${STYLE}</head><body>${body}</body></html>`;
}

function form(name: string, error?: string) {
  return page(
    `Register — ${name}`,
    html`<h1>Register on ${name}</h1>
<p>Pick a username. You get an API key: it is shown once, so keep it somewhere safe.
Use it as the <code>apikey</code> header with any AI Horde client, bot or worker pointed at this horde.</p>
${error ? html`<p class="error">${error}</p>` : ''}
<form method="post" action="/register"><label>Username <input name="username" minlength="3" maxlength="30" required></label>
<button type="submit">Create my key</button></form>
<p><a href="/api/">API reference</a></p>`,
  );
}

export function registerRoutes(deps: RouteDeps) {
  const { horde } = deps;
  const name = deps.options.name;
  const app = new Hono<ServerEnv>();

  app.get('/register', (c) => c.html(form(name)));

  app.post('/register', limit(deps, 'register'), async (c) => {
    const isJson = (c.req.header('content-type') ?? '').includes('json');
    let username: unknown;
    if (isJson) {
      const input = await readJson(c, 65_536);
      username = input && typeof input === 'object' ? (input as { username?: unknown }).username : undefined;
      if (typeof username !== 'string')
        throw validationFailed({ username: 'A username (3 to 30 characters) is required.' });
    } else {
      const parsed = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
      username = parsed.username;
      if (typeof username !== 'string' || username.trim().length < 3) {
        return c.html(form(name, 'Please pick a username of 3 to 30 characters.'), 400);
      }
    }
    try {
      const { account, apiKey } = await horde.registerAccount({ username: username as string });
      const alias = `${account.username}#${account.id}`;
      if (isJson) {
        return reply(
          c,
          {
            api_key: apiKey,
            id: account.id,
            username: account.username,
            alias,
            kudos: account.balance / 100,
          },
          201,
        );
      }
      return c.html(
        page(
          `Your key — ${name}`,
          html`<h1>Welcome, ${alias}</h1><p>Your API key (shown once):</p><p><code>${apiKey}</code></p>
<p>Send kudos to others as <code>${alias}</code>. Workers you run with this key earn kudos for this account.</p>`,
        ),
        201,
      );
    } catch (error) {
      if (isJson) throw error;
      return c.html(form(name, error instanceof Error ? error.message : 'That did not work.'), 400);
    }
  });

  return app;
}
