/** @jsxImportSource hono/jsx */
/**
 * The consent page of the authorization endpoint: who is asking (the
 * client's name, its organization, and — prominently — the host it will send
 * you back to; for a Client ID Metadata Document client the host that
 * published it, with a warning when the two differ), what it asks for in plain words, and Allow / Deny as POST
 * forms. Both forms carry the request and a consent token bound to this user,
 * session and request (`tokens/oauth.ts`); the page cannot be framed.
 */
import { en, type Messages } from "../i18n/en";
import { Layout } from "./layout";

export interface ConsentPageProps {
  clientName: string;
  orgName: string | null;
  /** Host (and port) of the redirect URI. */
  redirectHost: string;
  /** Organizations the access may be granted for (org-scoped consent); empty: no choice shown. */
  orgs?: readonly { id: string; name: string; role: string }[];
  /** For a Client ID Metadata Document client: the host that published it (the only identity it has). */
  documentHost?: string | null;
  /** The scopes in plain words (`oauth/scopes.ts`). */
  permissions: readonly string[];
  /** Host of the resource, when it is not gatehouse itself. */
  resourceHost: string | null;
  /** Who is signed in. */
  signedInAs: string;
  /** The authorization request's query string, posted back unchanged. */
  request: string;
  consentToken: string;
  /** The texts of the request's language; English when absent. */
  t?: Messages;
}

/** @example String(<ConsentPage clientName="Acme" … />) */
export function ConsentPage(props: ConsentPageProps) {
  const t = props.t ?? en;
  return (
    <Layout title={t.consent.title(props.clientName)} t={t}>
      <h1>
        {t.consent.heading[0]}<strong>{props.clientName}</strong>{t.consent.heading[1]}
      </h1>
      {props.orgName ? <p class="muted">{t.consent.orgApp(props.orgName)}</p> : null}
      {props.documentHost ? (
        <>
          <p>This application describes itself at</p>
          <p data-document-host style="font-size:1.25rem;font-weight:700;overflow-wrap:anywhere;margin:.25rem 0 .75rem">{props.documentHost}</p>
          <p class="muted">Its name is what that site says; gatehouse has not checked it.</p>
          {hostname(props.documentHost) !== hostname(props.redirectHost) ? (
            <p role="alert" data-redirect-warning style="border:2px solid #b45309;padding:.5rem .75rem;border-radius:.375rem">
              Warning: you will be sent back to <strong>{props.redirectHost}</strong>, not to {props.documentHost}. Allow only if you expected
              that (for example, an app running on your own computer).
            </p>
          ) : null}
        </>
      ) : null}
      <p>{t.consent.sentTo}</p>
      <p style="font-size:1.25rem;font-weight:700;overflow-wrap:anywhere;margin:.25rem 0 .75rem">{props.redirectHost}</p>
      <p class="muted">{t.consent.trust}</p>
      <p>
        {t.consent.able}
      </p>
      <ul>
        {props.permissions.map((p) => (
          <li>{p}</li>
        ))}
      </ul>
      {props.resourceHost ? <p class="muted">{t.consent.resource(props.resourceHost)}</p> : null}
      <p class="muted">
        <small>
          {t.consent.signedInAs(props.signedInAs)}
        </small>
      </p>
      <form method="post" action="/oauth/consent">
        <input type="hidden" name="request" value={props.request} />
        <input type="hidden" name="consent_token" value={props.consentToken} />
        <input type="hidden" name="decision" value="allow" />
        {props.orgs && props.orgs.length > 0 ? (
          <p>
            <label>
              Allow it for{" "}
              <select name="org">
                <option value="">just me (no organization)</option>
                {props.orgs.map((o) => (
                  <option value={o.id}>
                    {o.name} (you are {o.role})
                  </option>
                ))}
              </select>
            </label>
            <br />
            <small class="muted">With an organization, the app learns it and your role there.</small>
          </p>
        ) : null}
        <button class="button" type="submit">
          {t.consent.allow}
        </button>
      </form>
      <form method="post" action="/oauth/consent">
        <input type="hidden" name="request" value={props.request} />
        <input type="hidden" name="consent_token" value={props.consentToken} />
        <input type="hidden" name="decision" value="deny" />
        <button class="button" type="submit">
          {t.consent.deny}
        </button>
      </form>
    </Layout>
  );
}

/** A host without its port. */
function hostname(host: string): string {
  return host.replace(/:\d+$/, "").replace(/^\[(.*)\]$/, "$1");
}
