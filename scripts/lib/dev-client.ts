/**
 * Registers (or refreshes) the example web app as an OAuth client of the
 * local stack (`npm run dev`): a confidential, first-party-NOT web client
 * named "Example Web App", so the consent page shows. One statement; the
 * secret's SHA-256 and the redirect URI follow the current run's ports.
 */
import { createHash } from "node:crypto";
import { neon, neonConfig } from "@neondatabase/serverless";

const NAME = "Example Web App";

/**
 * @example
 * const clientId = await ensureDevWebAppClient({ connectionString, fetchEndpoint, secret, redirectUri, apiUrl });
 */
export async function ensureDevWebAppClient(input: {
  connectionString: string;
  fetchEndpoint: string;
  secret: string;
  redirectUri: string;
  apiUrl: string;
}): Promise<string> {
  neonConfig.fetchEndpoint = input.fetchEndpoint;
  const secretHash = createHash("sha256").update(input.secret, "utf8").digest("hex");
  const rows = (await neon(input.connectionString).query(
    `WITH existing AS (
       UPDATE oauth_clients SET secret_hash = $2, redirect_uris = ARRAY[$3], resources = ARRAY[$4], updated_at = now()
       WHERE name = $1 AND org_id IS NULL RETURNING id
     ),
     created AS (
       INSERT INTO oauth_clients (name, type, application_type, secret_hash, redirect_uris, scopes, resources)
       SELECT $1, 'confidential', 'web', $2, ARRAY[$3], ARRAY['openid', 'profile', 'email', 'offline_access'], ARRAY[$4]
       WHERE NOT EXISTS (SELECT 1 FROM existing)
       RETURNING id
     )
     SELECT id::text AS id FROM existing UNION ALL SELECT id::text FROM created`,
    [NAME, secretHash, input.redirectUri, input.apiUrl],
  )) as { id: string }[];
  const id = rows[0]?.id;
  if (!id) throw new Error("dev: could not register the example web app");
  return id;
}
