/**
 * `POST /auth/link/:provider`: a signed-in user adds another provider
 * account to their user. It starts an ordinary sign-in transaction that
 * carries the user's id; the callback's batch then attaches the identity to
 * that user, or refuses with `AccountNotLinked` when the identity already
 * belongs to someone else.
 *
 * A POST with an exact Origin check, so another site can neither start a
 * link in the user's name (CSRF) nor make it look like a plain link.
 */
import { Hono } from "hono";
import type { AppEnv } from "../context";
import { GatehouseError } from "../error";
import { resolveSession } from "../sessions/resolve";
import { providerFromRoute, redirectTarget, startSignIn } from "./signin";

export const link = new Hono<AppEnv>()
  .post("/:provider", async (c) => {
    if (c.req.header("origin") !== c.var.config.authUrl.origin) {
      throw new GatehouseError("Forbidden", "Linking must be started from this site.");
    }
    const provider = providerFromRoute(c, c.req.param("provider"));
    const form = await formFields(c.req.raw);
    const redirectTo = redirectTarget(c, form.getAll("redirect_to").length > 0 ? form.getAll("redirect_to") : c.req.queries("redirect_to"));
    const session = await resolveSession(c);
    if (!session) throw new GatehouseError("Unauthorized", "Sign in first, then link another account.");
    // 303: the browser follows a POST's redirect with a GET.
    return startSignIn(c, provider, { redirectTo, linkUserId: session.userId, status: 303 });
  })
  .all("/:provider", () => {
    throw new GatehouseError("MethodNotAllowed", "Linking is started with a POST from the account page.", { headers: { Allow: "POST" } });
  });

/** The urlencoded form fields of the body; anything else counts as an empty form. */
async function formFields(request: Request): Promise<URLSearchParams> {
  const type = request.headers.get("content-type") ?? "";
  if (!type.startsWith("application/x-www-form-urlencoded")) return new URLSearchParams();
  const body = await request.text();
  if (body.length > 8192) throw new GatehouseError("InvalidRequest", "The form is too large.");
  return new URLSearchParams(body);
}
