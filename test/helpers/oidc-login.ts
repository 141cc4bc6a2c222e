/**
 * The local OpenID provider's browser-like login, for tests inside workerd.
 * The implementation is shared with `npm run bench` (Node).
 *
 * @example
 * const callback = await loginAtLocalProvider((await provider.authorizationUrl(request)).href, "alice");
 * callback.searchParams.get("code") // the authorization code
 */
export { loginAtLocalProvider } from "../../scripts/local-oidc/login";
