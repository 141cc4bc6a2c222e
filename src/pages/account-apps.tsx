/** @jsxImportSource hono/jsx */
/**
 * The account page's "Apps with access to your account": each application
 * holding a grant or a refresh token, what it may do, when it last did, and
 * a Revoke form. Signing out everywhere leaves these alone; Revoke is how an
 * app loses access (docs/oauth-server.md).
 */
import type { UserApp } from "../db/oauth-grants";
import type { Messages } from "../i18n/en";
import { describeScopes } from "../oauth/scopes";

/** @example <Apps apps={overview.apps} /> */
export function Apps(props: { apps: readonly UserApp[]; t: Messages }) {
  const t = props.t;
  return (
    <section aria-labelledby="apps">
      <h2 id="apps">{t.account.apps}</h2>
      {props.apps.length === 0 ? (
        <p class="muted">{t.account.noApps}</p>
      ) : (
        <ul class="plain">
          {props.apps.map((app) => (
            <li>
              <span class="grow">
                <strong>{app.name}</strong>
                {app.orgName ? <span class="muted"> · {app.orgName}</span> : null}
                <br />
                <small>{describeScopes(app.scopes, "its API").join("; ")}</small>
                <br />
                <small>{t.account.lastUsed(`${app.lastUsedAt.toISOString().slice(0, 16).replace("T", " ")} UTC`)}</small>
              </span>
              <form method="post" action={`/account/apps/${app.clientId}/revoke`} class="inline">
                <button class="button small danger" type="submit" aria-label={t.account.revokeAppLabel(app.name)}>
                  {t.account.revoke}
                </button>
              </form>
            </li>
          ))}
        </ul>
      )}
      <p class="muted">
        <small>{t.account.appsNote}</small>
      </p>
    </section>
  );
}
