/**
 * Which tokens came from the OAuth server, and gatehouse's own API as a
 * resource. OAuth clients' ids are UUIDs (`oauth_clients.id`); tokens from
 * `POST /auth/token` carry the SPA's origin as `client_id`. gatehouse's own
 * API (`/api/orgs…`) accepts an OAuth client's token only when the user
 * granted it that API: `aud` = `${AUTH_URL}/api`.
 */
import { isClientMetadataUrl } from "./client-metadata";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * gatehouse's own API as an RFC 8707 resource.
 *
 * @example
 * gatehouseApiResource(new URL("https://auth.example.com")); // "https://auth.example.com/api"
 */
export function gatehouseApiResource(authUrl: URL): string {
  return `${authUrl.origin}/api`;
}

/**
 * Whether an access token's claims say it was issued to an OAuth client.
 *
 * @example
 * isOAuthClientToken({ client_id: "0b5c2f6e-8a1d-4c1e-9f00-6d2b1f0e9a11" }); // true
 * isOAuthClientToken({ client_id: "https://app.example.com/client.json" });  // true (a metadata document)
 * isOAuthClientToken({ client_id: "https://app.example.com" });              // false
 */
export function isOAuthClientToken(claims: { client_id?: unknown }): boolean {
  // A Client ID Metadata Document client's id is an https URL with a path; an SPA's is a bare origin.
  // Development's http loopback documents count too, whatever the configuration: recognizing more
  // tokens as an OAuth client's only ever refuses more at gatehouse's own API.
  return typeof claims.client_id === "string" && (UUID.test(claims.client_id) || isClientMetadataUrl(claims.client_id, { httpLoopback: true }));
}

/**
 * Whether an OAuth client's token may call gatehouse's own API: its audience must be that API.
 *
 * @example
 * oauthTokenAllowedAtOwnApi({ aud: "https://api.example.com" }, authUrl); // false
 */
export function oauthTokenAllowedAtOwnApi(claims: { aud?: unknown }, authUrl: URL): boolean {
  const own = gatehouseApiResource(authUrl);
  return Array.isArray(claims.aud) ? claims.aud.includes(own) : claims.aud === own;
}
