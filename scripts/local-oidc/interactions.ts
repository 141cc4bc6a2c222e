/**
 * The local provider's own login screen: one step, a username and nothing
 * else. oidc-provider's development interactions ask for a password (ignored)
 * and then show a consent screen; a developer signing in to gatehouse locally
 * needs neither. Signing in grants the scopes the client asked for, so the
 * consent prompt never shows; an interaction that is only missing consent is
 * finished without a page.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type Provider from "oidc-provider";

const PAGE_STYLE =
  "body{font:16px/1.5 system-ui,sans-serif;max-width:22rem;margin:10vh auto;padding:0 1rem;color:#1b1f24}" +
  "label{display:block;font-weight:600;margin-bottom:.25rem}input{font:inherit;width:100%;box-sizing:border-box;padding:.5rem;border:1px solid #6b7280;border-radius:6px}" +
  "button{font:inherit;margin-top:1rem;padding:.5rem 1rem;border:0;border-radius:6px;background:#1d4ed8;color:#fff}" +
  "p.hint{color:#4b5563;font-size:.9rem}p.error{color:#b91c1c}";

function escapeHtml(s: string): string {
  return s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;").replaceAll("'", "&#39;");
}

function loginPage(uid: string, clientId: string, error?: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Local sign-in</title><style>${PAGE_STYLE}</style></head><body>
<h1>Local OpenID provider</h1>
<p class="hint">Development only: any username signs in as <code>&lt;username&gt;@local.test</code> (verified). No password.</p>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ""}
<form method="post" action="/interaction/${escapeHtml(uid)}/login" autocomplete="off">
<input type="hidden" name="prompt" value="login">
<label for="login">Username</label>
<input id="login" name="login" required autofocus pattern="[A-Za-z0-9._-]{1,64}" title="letters, digits, dot, dash, underscore">
<button type="submit">Sign in</button>
</form>
<p class="hint">Signing in to <code>${escapeHtml(clientId)}</code>.</p>
</body></html>`;
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  let body = "";
  for await (const chunk of req) {
    body += String(chunk);
    if (body.length > 4096) break;
  }
  return new URLSearchParams(body);
}

/** Grants what the client asked for and finishes the interaction as `accountId`. */
async function finish(provider: Provider, req: IncomingMessage, res: ServerResponse, accountId: string): Promise<void> {
  const { params, grantId } = await provider.interactionDetails(req, res);
  const grant = grantId ? await provider.Grant.find(grantId) : new provider.Grant({ accountId, clientId: String(params.client_id) });
  if (!grant) throw new Error("grant not found");
  if (typeof params.scope === "string") grant.addOIDCScope(params.scope);
  await provider.interactionFinished(req, res, { login: { accountId }, consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: false });
}

/**
 * Handles `/interaction/:uid` (GET: the form, or straight on when only
 * consent is missing) and `/interaction/:uid/login` (POST). Returns false
 * for any other path, which then goes to oidc-provider itself.
 */
export async function handleInteraction(provider: Provider, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  const match = /^\/interaction\/([A-Za-z0-9_-]+)(\/login)?$/.exec(new URL(req.url ?? "/", "http://localhost").pathname);
  if (!match) return false;
  res.setHeader("cache-control", "no-store");
  const details = await provider.interactionDetails(req, res);
  if (!match[2] && req.method === "GET") {
    if (details.prompt.name === "consent" && details.session?.accountId) {
      await finish(provider, req, res, details.session.accountId);
      return true;
    }
    res.setHeader("content-type", "text/html; charset=utf-8");
    res.end(loginPage(details.uid, String(details.params.client_id)));
    return true;
  }
  if (match[2] && req.method === "POST") {
    const login = ((await readForm(req)).get("login") ?? "").trim();
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(login)) {
      res.statusCode = 400;
      res.setHeader("content-type", "text/html; charset=utf-8");
      res.end(loginPage(details.uid, String(details.params.client_id), "Type a username: letters, digits, dot, dash or underscore."));
      return true;
    }
    await finish(provider, req, res, login);
    return true;
  }
  res.statusCode = 405;
  res.end();
  return true;
}
