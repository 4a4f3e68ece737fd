/**
 * Where a remote horde's API is, from any spelling of its URL, and whether it is hordekit (and so offers
 * the SSE stream): `/.well-known/serviceinfo` (spec §0.1) names the software, hordekit's says `hordekit`.
 * SDK gap: the SDK has no call for that page (it is outside `/api/v2`), so plain `fetch` reads it.
 */

/** `…/api/v2` and the site root of `https://host`, `https://host/api` or `https://host/api/v2` (a path prefix stays). */
export function hordeRoutes(url: string): { api: string; root: string } {
  const trimmed = url.trim().replace(/\/+$/, '');
  const root = trimmed.replace(/\/api(\/v2)?$/, '');
  return { api: `${root}/api/v2`, root };
}

/**
 * Asks once whether the horde at `root` is hordekit. Any answer is kept (not JSON, or another software:
 * not hordekit); a failed connection is asked again next time.
 */
export function hordekitProbe(
  root: string,
  fetchImpl: typeof fetch,
  headers: Record<string, string>,
): () => Promise<boolean> {
  let answer: Promise<boolean> | undefined;
  return () => {
    answer ??= fetchImpl(`${root}/.well-known/serviceinfo`, { headers }).then(
      async (response) => {
        if (!response.ok) return false;
        const info = (await response.json().catch(() => ({}))) as { software?: { name?: unknown } };
        return info.software?.name === 'hordekit';
      },
      () => {
        answer = undefined;
        return false;
      },
    );
    return answer;
  };
}
