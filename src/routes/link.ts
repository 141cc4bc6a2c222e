/**
 * `POST /auth/link/:provider`: a signed-in user adds another provider
 * account to their user. It starts an ordinary sign-in transaction that
 * carries the user's id; the callback's batch then attaches the identity to
 * that user, or refuses with `AccountNotLinked` when the identity already
 * belongs to someone else.
 *
 * A POST with an exact Origin check, so another site can neither start a
 * link in the user's name (CSRF) nor make it look like a plain link.
 *
 * `POST /auth/link/facebook?org=<slug or id>` also connects the user's
 * Facebook Pages to that organization (docs/orgs.md): the user must be its
 * owner or admin now (one read, nothing written) and again when the
 * callback's batch commits (the role guard inside it).
 */
import { Hono } from "hono/tiny";
import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";
import { GatehouseError } from "../error";
import { limitBody } from "../middleware/csrf";
import { orgClaimsFor } from "../orgs/claims";
import type { SignInProvider } from "../providers";
import { resolveSession } from "../sessions/resolve";
import { providerFromRoute, redirectTarget, startSignIn } from "./signin";

/** Roles that may connect an organization's Pages. */
const CONNECT_ROLES: readonly string[] = ["owner", "admin"];

/** Longest link form body (redirect_to, org). */
const MAX_FORM_LENGTH = 8192;

export const link = new Hono<AppEnv>()
  .post("/:provider", requireOwnSite(), limitBody(MAX_FORM_LENGTH), async (c) => {
    const provider = providerFromRoute(c, c.req.param("provider"));
    const form = await formFields(c.req.raw);
    const redirectTo = redirectTarget(c, form.getAll("redirect_to").length > 0 ? form.getAll("redirect_to") : c.req.queries("redirect_to"));
    const orgValues = form.getAll("org").length > 0 ? form.getAll("org") : c.req.queries("org");
    const session = await resolveSession(c);
    if (!session) throw new GatehouseError("Unauthorized", "Sign in first, then link another account.");
    const connect = orgValues === undefined ? undefined : await connectTarget(c, provider, orgValues, session.userId);
    // 303: the browser follows a POST's redirect with a GET.
    return startSignIn(c, provider, {
      redirectTo,
      linkUserId: session.userId,
      linkSessionId: session.sessionId,
      status: 303,
      ...(connect ? { connect } : {}),
    });
  })
  .all("/:provider", () => {
    throw new GatehouseError("MethodNotAllowed", "Linking is started with a POST from the account page.", { headers: { Allow: "POST" } });
  });

/** The Origin must be this site's own, before any body or cookie is read. */
function requireOwnSite(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.req.header("origin") !== c.var.config.authUrl.origin) {
      throw new GatehouseError("Forbidden", "Linking must be started from this site.");
    }
    await next();
  };
}

/**
 * The organization a Pages connect is for, with the scopes to ask. Only
 * Facebook has Pages (400 otherwise); not a member → 404, a member who is
 * neither owner nor admin → 403. One database read, no write.
 */
async function connectTarget(
  c: Context<AppEnv>,
  provider: SignInProvider,
  values: readonly string[],
  userId: string,
): Promise<{ orgId: string; scopes: readonly string[] }> {
  if (provider.kind !== "facebook") {
    throw new GatehouseError("InvalidRequest", "Only Facebook Pages can be connected to an organization.", { extra: { field: "org" } });
  }
  if (values.length !== 1) throw new GatehouseError("InvalidRequest", "Name one organization.", { extra: { field: "org" } });
  const claims = await orgClaimsFor(await c.var.db(), { userId, org: values[0] });
  if (!claims) throw new GatehouseError("NotFound", "No such organization.");
  if (!claims.roles.some((r) => CONNECT_ROLES.includes(r))) {
    throw new GatehouseError("Forbidden", "Only owners and admins can connect Pages to this organization.");
  }
  return { orgId: claims.org.id, scopes: c.var.config.facebook.pageScopes };
}

/** The urlencoded form fields of the body; anything else counts as an empty form. */
async function formFields(request: Request): Promise<URLSearchParams> {
  const type = request.headers.get("content-type") ?? "";
  if (!type.startsWith("application/x-www-form-urlencoded")) return new URLSearchParams();
  // limitBody has bounded it already.
  return new URLSearchParams(await request.text());
}
