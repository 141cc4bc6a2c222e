/** @jsxImportSource hono/jsx */
/**
 * The account page: profile, sign-in methods (link / unlink), active
 * sessions (revoke one, sign out everywhere), organizations and, for their
 * owners and admins, connected pages. Every action is a POST form to this
 * site (no script); the handlers check Origin and answer with a redirect.
 */
import type { AccountOverview } from "../db/account";
import { deviceLabel } from "../lib/user-agent";
import { Activity } from "./activity";
import { Apps } from "./account-apps";
import { en, type Messages } from "../i18n/en";
import { Layout } from "./layout";
import { ProviderMark } from "./provider-mark";

/** Fixed texts for `?notice=` (English; every language in `i18n/`); anything else shows nothing. */
export const ACCOUNT_NOTICES = en.account.notices;

export type AccountNotice = keyof typeof ACCOUNT_NOTICES;

export interface AccountPageProps {
  overview: AccountOverview & { user: NonNullable<AccountOverview["user"]> };
  /** The session viewing the page ("this device"). */
  currentSessionId: string;
  /** Enabled providers, for names and the "link another" forms. */
  providers: readonly { id: string; name: string }[];
  /** Absolute URL of this page, sent as `redirect_to` by the link forms. */
  accountUrl: string;
  notice: AccountNotice | null;
  /** Passkeys are enabled: the script that adds them (absolute URL); absent when off. */
  passkeyScript?: string | undefined;
  /** The texts of the request's language; English when absent. */
  t?: Messages;
}

/** "2026-11-22 00:06 UTC": unambiguous without script or the viewer's time zone. */
function when(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** @example String(<AccountPage overview={o} currentSessionId={sid} providers={[]} accountUrl="https://auth.example.com/account" notice={null} />) */
export function AccountPage(props: AccountPageProps) {
  const { user } = props.overview;
  const t = props.t ?? en;
  return (
    <Layout title={t.account.title} wide t={t} script={props.passkeyScript}>
      <h1>{t.account.title}</h1>
      {props.notice ? (
        <p role="status" class="tag ok">
          {t.account.notices[props.notice]}
        </p>
      ) : null}
      <section aria-labelledby="profile" style="display:flex;gap:1rem;align-items:center">
        {user.image?.startsWith("https://") ? <img class="avatar" src={user.image} alt="" referrerpolicy="no-referrer" /> : null}
        <div class="grow">
          <p id="profile">
            <strong>{user.name ?? user.email ?? t.account.unnamed}</strong>
          </p>
          {user.email ? <p class="muted">{user.email}</p> : null}
          <p class="muted">
            <small>{t.account.memberSince(when(user.createdAt))}</small>
          </p>
        </div>
      </section>
      <SignInMethods {...props} t={t} />
      {props.passkeyScript || props.overview.passkeys.length > 0 ? (
        <Passkeys passkeys={props.overview.passkeys} only={props.overview.accounts.length + props.overview.passkeys.length <= 1} enabled={!!props.passkeyScript} t={t} />
      ) : null}
      <Sessions sessions={props.overview.sessions} currentSessionId={props.currentSessionId} t={t} />
      <Apps apps={props.overview.apps} t={t} />
      <Organizations overview={props.overview} canConnectFacebook={props.providers.some((p) => p.id === "facebook")} accountUrl={props.accountUrl} t={t} />
      <Activity events={props.overview.events} t={t} />
    </Layout>
  );
}

function providerName(providers: AccountPageProps["providers"], id: string, t: Messages): string {
  // Email codes (routes/email.ts) are an identity without a configured provider.
  return providers.find((p) => p.id === id)?.name ?? (id === "email" ? t.account.emailMethod : id);
}

function SignInMethods(props: AccountPageProps & { t: Messages }) {
  const t = props.t;
  const linked = props.overview.accounts;
  // Passkeys are sign-in methods too: the last one of either kind cannot go (db/account.ts, db/passkeys.ts).
  const only = linked.length + props.overview.passkeys.length <= 1;
  const linkedProviders = new Set(linked.map((a) => a.provider));
  const linkable = props.providers.filter((p) => !linkedProviders.has(p.id));
  return (
    <section aria-labelledby="methods">
      <h2 id="methods">{t.account.methods}</h2>
      <ul class="plain">
        {linked.map((a) => {
          const name = providerName(props.providers, a.provider, t);
          return (
            <li>
              <ProviderMark id={a.provider} name={name} />
              <span class="grow">
                {name}
                {a.email ? <span class="muted"> · {a.email}</span> : null}
                <br />
                <small>{t.account.linked(when(a.createdAt))}</small>
              </span>
              {only ? (
                <span class="tag">{t.account.onlyMethod}</span>
              ) : (
                <form method="post" action={`/account/unlink/${encodeURIComponent(a.provider)}`} class="inline">
                  <input type="hidden" name="account" value={a.id} />
                  <button class="button small danger" type="submit" aria-label={t.account.unlinkLabel(name)}>
                    {t.account.unlink}
                  </button>
                </form>
              )}
            </li>
          );
        })}
      </ul>
      {linkable.length > 0 ? (
        <>
          <p class="muted">{t.account.addAnother}</p>
          {linkable.map((p) => (
            <form method="post" action={`/auth/link/${encodeURIComponent(p.id)}`}>
              <input type="hidden" name="redirect_to" value={props.accountUrl} />
              <button class="button" type="submit">
                <ProviderMark id={p.id} name={p.name} />
                <span>{t.account.link(p.name)}</span>
              </button>
            </form>
          ))}
        </>
      ) : null}
    </section>
  );
}

function Passkeys(props: { passkeys: AccountOverview["passkeys"]; only: boolean; enabled: boolean; t: Messages }) {
  const t = props.t;
  return (
    <section aria-labelledby="passkeys">
      <h2 id="passkeys">{t.passkeys.accountHeading}</h2>
      {props.passkeys.length === 0 ? <p class="muted">{t.passkeys.none}</p> : null}
      <ul class="plain">
        {props.passkeys.map((p) => (
          <li data-passkey-id={p.id}>
            <span class="grow">
              {p.name} <span class="tag">{p.deviceType === "multiDevice" ? t.passkeys.synced : t.passkeys.deviceBound}</span>
              <br />
              <small>
                {t.passkeys.created(when(p.createdAt))} · {p.lastUsedAt ? t.passkeys.lastUsed(when(p.lastUsedAt)) : t.passkeys.neverUsed}
              </small>
            </span>
            {props.only ? (
              <span class="tag">{t.account.onlyMethod}</span>
            ) : (
              <form method="post" action={`/account/passkeys/${p.id}/remove`} class="inline">
                <button class="button small danger" type="submit" aria-label={t.passkeys.removeLabel(p.name)}>
                  {t.passkeys.remove}
                </button>
              </form>
            )}
          </li>
        ))}
      </ul>
      {props.enabled ? (
        <>
          <noscript>
            <p class="muted">{t.passkeys.needsScript}</p>
          </noscript>
          {/* Hidden until the passkey script finds WebAuthn (progressive enhancement). */}
          <div data-passkey-root data-working={t.passkeys.working} hidden>
            <label for="passkey-name">{t.passkeys.nameLabel}</label>
            <input id="passkey-name" type="text" name="passkey_name" maxlength={64} autocomplete="off" />
            <button class="button" type="button" data-passkey="register" disabled>
              {t.passkeys.add}
            </button>
            <p role="status" class="muted" data-passkey-status></p>
          </div>
        </>
      ) : null}
    </section>
  );
}

function Sessions(props: { sessions: AccountOverview["sessions"]; currentSessionId: string; t: Messages }) {
  const t = props.t;
  return (
    <section aria-labelledby="sessions">
      <h2 id="sessions">{t.account.sessions}</h2>
      <ul class="plain">
        {props.sessions.map((s) => {
          const current = s.id === props.currentSessionId;
          return (
            <li data-session={s.id}>
              <span class="grow">
                {deviceLabel(s.userAgent)} {current ? <span class="tag ok">{t.account.thisDevice}</span> : null}
                <br />
                <small>
                  {t.account.sessionLine(s.ip ?? t.account.unknownIp, when(s.lastUsedAt), when(s.createdAt))}
                </small>
              </span>
              <form method="post" action={`/account/sessions/${s.id}/revoke`} class="inline">
                <button class="button small" type="submit" aria-label={current ? t.account.signOutThisDevice : t.account.revokeSessionLabel(deviceLabel(s.userAgent))}>
                  {current ? t.common.signOut : t.account.revoke}
                </button>
              </form>
            </li>
          );
        })}
      </ul>
      <form method="post" action="/auth/signout?scope=all">
        <button class="button small danger" type="submit">
          {t.account.signOutEverywhere}
        </button>
      </form>
    </section>
  );
}

function Organizations(props: { overview: AccountOverview; canConnectFacebook: boolean; accountUrl: string; t: Messages }) {
  const t = props.t;
  const { organizations, pages } = props.overview;
  return (
    <section aria-labelledby="orgs">
      <h2 id="orgs">{t.account.orgs}</h2>
      {organizations.length === 0 ? <p class="muted">{t.account.noOrgs}</p> : null}
      <ul class="plain">
        {organizations.map((o) => {
          const admin = o.role === "owner" || o.role === "admin";
          const orgPages = pages.filter((p) => p.orgId === o.id);
          return (
            <li style="display:block">
              <strong>{o.name}</strong> <span class="muted">/{o.slug}</span> <span class="tag">{o.role}</span>{" "}
              {o.personal ? <span class="tag">{t.account.personal}</span> : null}
              {admin ? (
                <div>
                  <small>{t.account.connectedPages}</small>
                  {orgPages.length === 0 ? (
                    <small class="muted">{t.account.noneConnected}</small>
                  ) : (
                    <ul>
                      {orgPages.map((p) => (
                        <li>
                          {p.name} <span class="muted">({p.provider}{p.category ? `, ${p.category}` : ""})</span>{" "}
                          {p.goneAt ? <span class="tag">{t.account.goneSince(when(p.goneAt))}</span> : <span class="tag ok">{t.account.active}</span>}
                        </li>
                      ))}
                    </ul>
                  )}
                  {props.canConnectFacebook ? (
                    // Starts a Pages connect for this organization (docs/orgs.md); the org is checked again in the callback.
                    <form method="post" action="/auth/link/facebook">
                      <input type="hidden" name="org" value={o.slug} />
                      <input type="hidden" name="redirect_to" value={props.accountUrl} />
                      <button class="button small" type="submit" aria-label={t.account.connectLabel(orgPages.length > 0, o.name)}>
                        {orgPages.length === 0 ? t.account.connectPages : t.account.reconnectPages}
                      </button>
                    </form>
                  ) : null}
                  {props.canConnectFacebook && orgPages.some((p) => p.provider === "facebook" && p.goneAt === null) ? (
                    <form method="post" action={`/account/orgs/${encodeURIComponent(o.slug)}/providers/facebook/disconnect`}>
                      <button class="button small danger" type="submit" aria-label={t.account.disconnectLabel(o.name)}>
                        {t.account.disconnectPages}
                      </button>
                    </form>
                  ) : null}
                </div>
              ) : null}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
