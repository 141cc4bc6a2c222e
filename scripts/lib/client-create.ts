/**
 * The pure part of `npm run client:create`: argument parsing and the one
 * INSERT (with its audit row, in the same statement). No Node APIs, so the
 * workerd tests exercise it against the real database.
 */
import { validateRegistration, type ClientRegistration } from "../../src/oauth/client-registration.ts";

export interface ClientCreateArgs {
  registration: ClientRegistration;
  /** Organization slug or id owning the client; none for an operator's own client. */
  org: string | null;
  firstParty: boolean;
}

export const CLIENT_CREATE_USAGE = `usage: npm run client:create -- --name <name> --type public|confidential [--native]
         --redirect-uri <url> [--redirect-uri <url> …] --scope "<scope> …" [--resource <url> …]
         [--org <slug or id>] [--first-party]

  --native        a native/CLI app: loopback redirect URIs (http://127.0.0.1/path) match any port
  --resource      an API the client may get tokens for: one of ALLOWED_AUDIENCES or <AUTH_URL>/api
  --first-party   pre-approved: users are not asked for consent (your own apps only)
`;

/**
 * Parses the command line; a problem is returned, never thrown.
 *
 * @example
 * parseClientArgs(["--name", "CLI", "--type", "public", "--native", "--redirect-uri", "http://127.0.0.1/cb", "--scope", "openid"], []);
 */
export function parseClientArgs(argv: readonly string[], allowedResources: readonly string[]): { ok: true; args: ClientCreateArgs } | { ok: false; problem: string } {
  const single = new Map<string, string>();
  const redirectUris: string[] = [];
  const resources: string[] = [];
  let native = false;
  let firstParty = false;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === "--native") native = true;
    else if (flag === "--first-party") firstParty = true;
    else if (["--name", "--type", "--scope", "--org", "--redirect-uri", "--resource"].includes(flag)) {
      const value = argv[++i];
      if (value === undefined) return { ok: false, problem: `${flag} needs a value` };
      if (flag === "--redirect-uri") redirectUris.push(value);
      else if (flag === "--resource") resources.push(value);
      else if (single.has(flag)) return { ok: false, problem: `${flag} given twice` };
      else single.set(flag, value);
    } else return { ok: false, problem: `unknown argument ${flag}` };
  }
  const checked = validateRegistration(
    {
      name: single.get("--name"),
      type: single.get("--type"),
      applicationType: native ? "native" : "web",
      redirectUris,
      scopes: (single.get("--scope") ?? "").split(" ").filter(Boolean),
      resources,
    },
    allowedResources,
  );
  if (!checked.ok) return { ok: false, problem: `${checked.field}: ${checked.problem}` };
  return { ok: true, args: { registration: checked.value, org: single.get("--org") ?? null, firstParty } };
}

/**
 * The INSERT of the client and its `oauth_client.create` audit row (actor
 * `system`), as one parameterized statement. Returns the client id, or no
 * row when `--org` names no organization.
 *
 * @example
 * const [row] = await sql.query(q.text, q.params);
 */
export function insertClientQuery(args: ClientCreateArgs, secretHash: string | null): { text: string; params: unknown[] } {
  const r = args.registration;
  return {
    text: `WITH org AS (
        SELECT id FROM organizations WHERE $1::text IS NOT NULL AND (slug = $1 OR id::text = $1)
      ),
      created AS (
        INSERT INTO oauth_clients (name, type, application_type, secret_hash, redirect_uris, scopes, resources, org_id, first_party)
        SELECT $2, $3::oauth_client_type, $4::oauth_application_type, $5, $6::text[], $7::text[], $8::text[], (SELECT id FROM org), $9
        WHERE $1::text IS NULL OR EXISTS (SELECT 1 FROM org)
        RETURNING id, org_id, name
      ),
      audit AS (
        INSERT INTO audit_events (actor_type, actor_id, action, org_id, target_type, target_id, metadata)
        SELECT 'system', 'client:create', 'oauth_client.create', org_id, 'oauth_client', id::text, jsonb_build_object('name', name)
        FROM created RETURNING id
      )
      SELECT id::text AS client_id FROM created`,
    params: [args.org, r.name, r.type, r.applicationType, secretHash, r.redirectUris, r.scopes, r.resources, args.firstParty],
  };
}
