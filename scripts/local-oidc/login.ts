/**
 * Signs in at the local OpenID provider (scripts/local-oidc) the way a
 * browser would: follows redirects by hand, keeps the provider's cookies,
 * and submits the one-step development login form (a username only). Web-standard fetch
 * only, so the same code runs in Node (`npm run bench`) and inside workerd
 * (tests, through test/helpers/oidc-login.ts).
 *
 * @example
 * const callback = await loginAtLocalProvider(providerUrl, "alice");
 * callback.searchParams.get("code"); // the authorization code for gatehouse
 */

/** authorize → login form → callback takes about 4 hops; more means a loop. */
const MAX_STEPS = 12;

interface Step {
  url: URL;
  method: "GET" | "POST";
  body?: URLSearchParams;
}

/**
 * Returns the URL the provider sends the browser back to (gatehouse's
 * callback, with `code`, `state` and `iss`, or an `error`) once `username`
 * has signed in.
 *
 * @example
 * const callback = await loginAtLocalProvider("http://localhost:9010/auth?client_id=…", "alice");
 */
export async function loginAtLocalProvider(authorizationUrl: string, username: string): Promise<URL> {
  const issuerOrigin = new URL(authorizationUrl).origin;
  const jar = new Map<string, string>();
  let step: Step = { url: new URL(authorizationUrl), method: "GET" };

  for (let i = 0; i < MAX_STEPS; i++) {
    const res = await fetch(step.url, {
      method: step.method,
      redirect: "manual",
      headers: {
        ...(jar.size > 0 ? { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join("; ") } : {}),
        ...(step.body ? { "content-type": "application/x-www-form-urlencoded" } : {}),
      },
      ...(step.body ? { body: step.body.toString() } : {}),
    });
    storeCookies(jar, res.headers);

    const location = res.headers.get("location");
    if (res.status >= 300 && res.status < 400 && location !== null) {
      await res.body?.cancel();
      const next = new URL(location, step.url);
      if (next.origin !== issuerOrigin) return next;
      step = { url: next, method: "GET" };
      continue;
    }
    const page = await res.text();
    const form = firstForm(page);
    // The provider's pages hold no secrets of ours; a short excerpt says what went wrong.
    if (res.status !== 200 || !form) throw new Error(`local provider: unexpected HTTP ${res.status} at ${step.url.pathname}: ${page.slice(0, 200)}`);
    const body = new URLSearchParams(form.hidden);
    if (form.hidden.prompt === "login") body.set("login", username);
    step = { url: new URL(form.action, step.url), method: "POST", body };
  }
  throw new Error("local provider: too many steps without reaching the callback");
}

function storeCookies(jar: Map<string, string>, headers: Headers): void {
  for (const line of headers.getSetCookie()) {
    const [pair] = line.split(";");
    const i = pair?.indexOf("=") ?? -1;
    if (pair === undefined || i < 1) continue;
    const name = pair.slice(0, i).trim();
    const value = pair.slice(i + 1).trim();
    // An expired cookie is the provider deleting it.
    if (/expires=Thu, 01 Jan 1970/i.test(line) || value === "") jar.delete(name);
    else jar.set(name, value);
  }
}

/** The first form of a page: its action and hidden inputs. */
function firstForm(page: string): { action: string; hidden: Record<string, string> } | undefined {
  const form = /<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/i.exec(page);
  if (!form?.[1]) return undefined;
  const hidden: Record<string, string> = {};
  for (const input of form[2]?.matchAll(/<input[^>]*type="hidden"[^>]*>/gi) ?? []) {
    const name = /name="([^"]*)"/.exec(input[0])?.[1];
    const value = /value="([^"]*)"/.exec(input[0])?.[1] ?? "";
    if (name !== undefined) hidden[name] = decodeEntities(value);
  }
  return { action: decodeEntities(form[1]), hidden };
}

function decodeEntities(s: string): string {
  return s.replaceAll("&quot;", '"').replaceAll("&#39;", "'").replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&amp;", "&");
}
