/**
 * The authorization endpoint's one statement: read the client and, when
 * the request may be answered at once (signed in, fresh enough for
 * `max_age`, consent remembered or just given, or a first-party client),
 * store the authorization code in the same round trip. The conditions under
 * which a code is written are the same ones `oauth/authorize-request.ts`
 * checks in the worker, repeated here so nothing is written for a request
 * the worker will refuse.
 */
import { sql, type SQL } from "drizzle-orm";
import type { ClientView } from "../oauth/authorize-request";
import type { RequestContext } from "../lib/request-context";
import { auditInsert } from "./audit";
import type { Database } from "./client";

/** What a Client ID Metadata Document client's row holds (`oauth/client-metadata.ts`). */
export interface MetadataClientRow {
  url: string;
  name: string;
  applicationType: "web" | "native";
  redirectUris: readonly string[];
  scopes: readonly string[];
  resources: readonly string[];
}

/** The code to store, when the caller wants one issued. */
export interface CodeToIssue {
  codeHash: string;
  /** The redirect URI as presented (what the token request must repeat). */
  redirectUri: string;
  /** Registered forms it may match: itself and, for loopback, the port-less form. */
  redirectKeys: readonly string[];
  codeChallenge: string;
  scopes: readonly string[];
  resource: string;
  defaultResource: string;
  nonce: string | null;
  /** `remembered`: only with a live grant covering the scopes (or first party). `granted`: the user just allowed it; remember it. */
  consent: "remembered" | "granted";
  /** With `granted`: the organization the user chose on the consent page (must be a member), or null. `remembered` reuses the grant's. */
  orgId: string | null;
  lifetimeSeconds: number;
}

export interface AuthorizeOutcome {
  client: ClientView | null;
  /** The browser session is live (not revoked, user not disabled). */
  sessionLive: boolean;
  /** The session is within `max_age` (true without one). */
  fresh: boolean;
  /** A live grant covers the scopes, or the client is first party. */
  consented: boolean;
  /** The code was stored. */
  issued: boolean;
  /** The organization chosen (if any) is one the user is a member of. */
  orgOk: boolean;
  /** The signed-in user's organizations, for the consent page's organization choice. */
  orgs: { id: string; name: string; role: string }[];
}

/**
 * Looks up the client and, with `issue` and a session, conditionally stores the code.
 *
 * @example
 * const r = await authorizeStatement(db, { clientId, session: { sessionId, userId }, maxAge: null, issue: null });
 */
export async function authorizeStatement(
  db: Database,
  input: {
    clientId: string;
    /** A Client ID Metadata Document client: its row is created or refreshed from the document in this same statement. */
    document?: MetadataClientRow | null;
    session: { sessionId: string; userId: string } | null;
    /** OIDC `max_age`: the session must have started at most this many seconds ago. */
    maxAge: number | null;
    issue: CodeToIssue | null;
    /** The request (`c.var.request`), for the `oauth_grant.create` audit row of a consent. */
    context?: RequestContext | undefined;
  },
): Promise<AuthorizeOutcome> {
  const { clientId, session, issue } = input;
  const sessionCte = session
    ? sql`SELECT s.created_at, s.amr FROM sessions s JOIN users u ON u.id = s.user_id
          WHERE s.id = ${session.sessionId}::uuid AND s.user_id = ${session.userId}::uuid AND s.client_id IS NULL
            AND s.revoked_at IS NULL AND s.expires_at > now() AND u.disabled_at IS NULL`
    : sql`SELECT NULL::timestamptz AS created_at, NULL::text[] AS amr WHERE false`;
  const scopes = issue ? textArray(issue.scopes) : sql`ARRAY[]::text[]`;
  const resource = issue?.resource ?? "";
  const grantCte = session
    ? sql`SELECT g.id, g.scopes, g.org_id FROM oauth_grants g
          WHERE g.user_id = ${session.userId}::uuid AND g.client_id = (SELECT id FROM client) AND g.resource = ${resource} AND g.revoked_at IS NULL`
    : sql`SELECT NULL::uuid AS id, NULL::text[] AS scopes, NULL::uuid AS org_id WHERE false`;
  const chosenOrg = issue?.consent === "granted" ? issue.orgId : null;
  const orgOk =
    chosenOrg !== null && session
      ? sql`EXISTS (SELECT 1 FROM memberships m WHERE m.org_id = ${chosenOrg}::uuid AND m.user_id = ${session.userId}::uuid)`
      : sql`true`;
  const orgs = session
    ? sql`(SELECT coalesce(json_agg(json_build_object('id', o.id, 'name', o.name, 'role', m.role) ORDER BY o.name), '[]'::json)
           FROM memberships m JOIN organizations o ON o.id = m.org_id WHERE m.user_id = ${session.userId}::uuid)`
    : sql`'[]'::json`;
  const fresh = input.maxAge === null ? sql`true` : sql`sess.created_at >= now() - make_interval(secs => ${input.maxAge})`;
  const writes = issue && session ? issueWrites(issue, session.userId, scopes, fresh, orgOk, input.context) : sql`issued AS (SELECT NULL::text AS code_hash WHERE false)`;
  const result = await db.execute(sql`
    WITH ${clientSource(clientId, input.document ?? null)},
    client AS (
      SELECT c.id, c.name, c.type, c.application_type, c.redirect_uris, c.scopes, c.resources, c.first_party,
             c.disabled_at IS NOT NULL AS disabled, o.name AS org_name, c.metadata_url, c.dynamic
      FROM source c LEFT JOIN organizations o ON o.id = c.org_id
    ),
    sess AS (${sessionCte}),
    grant_row AS (${grantCte}),
    consent AS (
      SELECT (SELECT first_party FROM client) OR EXISTS (SELECT 1 FROM grant_row WHERE grant_row.scopes @> ${scopes}) AS ok
    ),
    ${writes}
    SELECT client.*, EXISTS (SELECT 1 FROM sess) AS session_live,
           EXISTS (SELECT 1 FROM sess WHERE ${fresh}) AS fresh,
           (SELECT ok FROM consent) AS consented,
           EXISTS (SELECT 1 FROM issued) AS issued, ${orgOk} AS org_ok, ${orgs} AS orgs
    FROM (SELECT 1) one LEFT JOIN client ON true
  `);
  const row = result.rows[0] as Record<string, unknown> | undefined;
  if (!row) throw new Error("authorizeStatement: no row");
  return {
    client: row.id == null ? null : clientViewOf(row),
    sessionLive: row.session_live === true,
    fresh: row.fresh === true,
    consented: row.consented === true,
    issued: row.issued === true,
    orgOk: row.org_ok === true,
    orgs: orgsOf(row.orgs),
  };
}

/**
 * CTE `source`: the client row. A registered client is read by id; a
 * metadata-document client's row is upserted from its validated document
 * (keyed by URL; an operator's `disabled_at` survives the refresh).
 */
function clientSource(clientId: string, doc: MetadataClientRow | null): SQL {
  if (doc === null) return sql`source AS (SELECT * FROM oauth_clients WHERE id = ${clientId}::uuid)`;
  return sql`source AS (
      INSERT INTO oauth_clients (name, type, application_type, redirect_uris, scopes, resources, metadata_url)
      VALUES (${doc.name}, 'public', ${doc.applicationType}::oauth_application_type, ${textArray(doc.redirectUris)}, ${textArray(doc.scopes)},
              ${textArray(doc.resources)}, ${doc.url})
      ON CONFLICT (metadata_url) DO UPDATE SET name = EXCLUDED.name, application_type = EXCLUDED.application_type,
        redirect_uris = EXCLUDED.redirect_uris, scopes = EXCLUDED.scopes, resources = EXCLUDED.resources, updated_at = now()
      RETURNING *
    )`;
}

/** The memberships JSON of the statement as a list (the driver may hand json back as text). */
function orgsOf(value: unknown): { id: string; name: string; role: string }[] {
  const list = typeof value === "string" ? (JSON.parse(value) as unknown) : value;
  if (!Array.isArray(list)) return [];
  return list.map((o: Record<string, unknown>) => ({ id: String(o.id), name: String(o.name), role: String(o.role) }));
}

function issueWrites(issue: CodeToIssue, userId: string, scopes: SQL, fresh: SQL, orgOk: SQL, context: RequestContext | undefined): SQL {
  const consentOk = issue.consent === "granted" ? sql`true` : sql`(SELECT ok FROM consent)`;
  // The code's organization: the one just chosen, or the remembered grant's.
  const codeOrg = issue.consent === "granted" ? sql`${issue.orgId}::uuid` : sql`(SELECT org_id FROM grant_row)`;
  const remember =
    issue.consent === "granted"
      ? sql`remembered AS (
          INSERT INTO oauth_grants (user_id, client_id, scopes, resource, org_id)
          SELECT ${userId}::uuid, (SELECT id FROM client), ${scopes}, ${issue.resource}, ${issue.orgId}::uuid FROM eligible
          ON CONFLICT (user_id, client_id, resource) WHERE revoked_at IS NULL
          DO UPDATE SET scopes = ARRAY(SELECT DISTINCT unnest(oauth_grants.scopes || EXCLUDED.scopes) ORDER BY 1), org_id = EXCLUDED.org_id, last_used_at = now()
          RETURNING id, client_id, org_id, scopes, resource
        ),
        audit_grant AS (${auditInsert(
          {
            actor: { type: "user", id: userId },
            action: "oauth_grant.create",
            orgId: sql`remembered.org_id`,
            targetType: "oauth_client",
            targetId: sql`remembered.client_id::text`,
            metadata: sql`jsonb_build_object('grant_id', remembered.id, 'scopes', to_jsonb(remembered.scopes), 'resource', remembered.resource)`,
            subjectUserId: sql`${userId}::uuid`,
            context,
          },
          sql`remembered`,
        )}),`
      : sql`remembered AS (
          UPDATE oauth_grants SET last_used_at = now() WHERE id IN (SELECT id FROM grant_row) AND EXISTS (SELECT 1 FROM eligible) RETURNING id
        ),`;
  return sql`eligible AS (
      SELECT sess.created_at, sess.amr FROM client, sess
      WHERE NOT client.disabled
        AND client.redirect_uris && ${textArray(issue.redirectKeys)}
        AND (${issue.redirectUri} = ANY(client.redirect_uris) OR client.application_type = 'native')
        AND (client.dynamic OR ${scopes} <@ client.scopes)
        AND (${issue.resource} = ${issue.defaultResource} OR ${issue.resource} = ANY(client.resources))
        AND ${fresh} AND ${consentOk} AND ${orgOk}
    ),
    ${remember}
    issued AS (
      INSERT INTO oauth_codes (code_hash, client_id, user_id, redirect_uri, code_challenge, scopes, resource, nonce, org_id, auth_time, amr, expires_at)
      SELECT ${issue.codeHash}, (SELECT id FROM client), ${userId}::uuid, ${issue.redirectUri}, ${issue.codeChallenge}, ${scopes},
             ${issue.resource}, ${issue.nonce}, ${codeOrg}, eligible.created_at, eligible.amr, now() + make_interval(secs => ${issue.lifetimeSeconds})
      FROM eligible
      RETURNING code_hash
    )`;
}

/** A text[] literal built from parameters. */
export function textArray(values: readonly string[]): SQL {
  if (values.length === 0) return sql`ARRAY[]::text[]`;
  return sql`ARRAY[${sql.join(values.map((v) => sql`${v}`), sql`, `)}]::text[]`;
}

/**
 * A client row (snake_case columns) as the endpoint's view.
 *
 * @example
 * clientViewOf(result.rows[0]);
 */
export function clientViewOf(row: Record<string, unknown>): ClientView {
  return {
    id: String(row.id),
    name: String(row.name),
    type: row.type === "confidential" ? "confidential" : "public",
    applicationType: row.application_type === "native" ? "native" : "web",
    redirectUris: pgArray(row.redirect_uris),
    scopes: pgArray(row.scopes),
    resources: pgArray(row.resources),
    firstParty: row.first_party === true,
    disabled: row.disabled === true,
    orgName: typeof row.org_name === "string" ? row.org_name : null,
    metadataUrl: typeof row.metadata_url === "string" ? row.metadata_url : null,
    dynamic: row.dynamic === true,
  };
}

/** A Postgres text[] as the driver returns it (an array, or `{a,b}` text from some paths). */
export function pgArray(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  if (typeof value === "string" && value.startsWith("{") && value.endsWith("}")) {
    const inner = value.slice(1, -1);
    return inner === "" ? [] : inner.split(",").map((v) => v.replace(/^"(.*)"$/, "$1"));
  }
  return [];
}
