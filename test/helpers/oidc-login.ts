/**
 * Signs in at the local OpenID provider (scripts/local-oidc) the way a
 * browser would, from inside workerd: follows redirects by hand, keeps the
 * provider's cookies, and submits the development login and consent forms.
 *
 * @example
 * const callback = await loginAtLocalProvider((await provider.authorizationUrl(request)).href, "alice");
 * callback.searchParams.get("code") // the authorization code
 */
const MAX_STEPS = 12;

/**
 * Returns the callback URL (with code, state and iss, or error) the
 * provider redirects to once `username` has signed in and consented.
 */
export async function loginAtLocalProvider(authorizationUrl: string, username: string): Promise<URL> {
  const issuerOrigin = new URL(authorizationUrl).origin;
  const jar = new Map<string, string>();
  let request: { url: URL; method: "GET" | "POST"; body?: URLSearchParams } = { url: new URL(authorizationUrl), method: "GET" };

  for (let step = 0; step < MAX_STEPS; step++) {
    const res = await fetch(request.url, {
      method: request.method,
      redirect: "manual",
      headers: {
        ...(jar.size > 0 ? { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join("; ") } : {}),
        ...(request.body ? { "content-type": "application/x-www-form-urlencoded" } : {}),
      },
      ...(request.body ? { body: request.body.toString() } : {}),
    });
    storeCookies(jar, res.headers);

    const location = res.headers.get("location");
    if (res.status >= 300 && res.status < 400 && location !== null) {
      const next = new URL(location, request.url);
      if (next.origin !== issuerOrigin) return next;
      request = { url: next, method: "GET" };
      continue;
    }
    const page = await res.text();
    const form = parseForm(page);
    if (res.status !== 200 || !form) throw new Error(`local provider: unexpected HTTP ${res.status} at ${request.url.pathname}: ${page.slice(0, 300)}`);
    const body = new URLSearchParams(form.hidden);
    if (form.hidden.prompt === "login") {
      body.set("login", username);
      body.set("password", "any");
    }
    request = { url: new URL(form.action, request.url), method: "POST", body };
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
function parseForm(page: string): { action: string; hidden: Record<string, string> } | undefined {
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
  return s.replaceAll("&amp;", "&").replaceAll("&quot;", '"').replaceAll("&#39;", "'").replaceAll("&lt;", "<").replaceAll("&gt;", ">");
}
