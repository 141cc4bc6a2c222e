/** @jsxImportSource hono/jsx */
/**
 * The `/admin` pages for operators (docs/operators.md "Admin"): user search,
 * one user's detail, and a confirmation page before every action. No
 * script: each action button links to its confirmation page, whose form
 * POSTs to this site (Origin-checked) and answers with a redirect.
 */
import type { AdminUserDetail, AdminUserSummary } from "../db/admin";
import { en, type Messages } from "../i18n/en";
import { deviceLabel } from "../lib/user-agent";
import { Activity, when } from "./activity";
import { Layout } from "./layout";

/** What an operator can do to a user; each has a confirmation page. */
export const ADMIN_ACTIONS = ["disable", "enable", "delete", "revoke", "revokeOne", "impersonate"] as const;
export type AdminAction = (typeof ADMIN_ACTIONS)[number];

/** Fixed texts for `?notice=`; anything else shows nothing. */
export const ADMIN_NOTICES = en.admin.notices;
export type AdminNotice = keyof typeof ADMIN_NOTICES;

/** The form target of an action. */
export function actionPath(userId: string, action: AdminAction): string {
  const verb = action === "revokeOne" ? "revoke" : action;
  return `/admin/users/${userId}/${verb}`;
}

function who(u: Pick<AdminUserSummary, "email" | "name" | "id">): string {
  return u.email ?? u.name ?? u.id;
}

function Notice(props: { notice: AdminNotice | null; t: Messages }) {
  return props.notice ? (
    <p role="status" class="tag ok">
      {props.t.admin.notices[props.notice]}
    </p>
  ) : null;
}

/** @example String(<AdminSearchPage q="" users={[]} nextHref={null} notice={null} t={en} />) */
export function AdminSearchPage(props: { q: string; users: readonly AdminUserSummary[]; nextHref: string | null; notice: AdminNotice | null; t: Messages }) {
  const t = props.t;
  return (
    <Layout title={t.admin.title} wide t={t}>
      <h1>{t.admin.title}</h1>
      <Notice notice={props.notice} t={t} />
      <form method="get" action="/admin" role="search">
        <label for="q">{t.admin.searchLabel}</label>
        <input id="q" name="q" type="search" value={props.q} maxlength={200} class="field" />
        <button class="button small" type="submit" style="margin-top:.5rem">
          {t.admin.search}
        </button>
      </form>
      <h2 id="results">{t.admin.results}</h2>
      {props.users.length === 0 ? <p class="muted">{t.admin.noResults}</p> : null}
      <ul class="plain" aria-labelledby="results">
        {props.users.map((u) => (
          <li data-user={u.id}>
            <span class="grow">
              <a href={`/admin/users/${u.id}`}>{who(u)}</a> {u.disabledAt ? <span class="tag">{t.admin.disabled}</span> : null}
              <br />
              <small>
                {u.name && u.email ? `${u.name} · ` : ""}
                {t.admin.created(when(u.createdAt))} · {u.lastSignInAt ? t.admin.lastSignIn(when(u.lastSignInAt)) : t.admin.never}
              </small>
            </span>
          </li>
        ))}
      </ul>
      {props.nextHref ? <a href={props.nextHref}>{t.admin.more}</a> : null}
    </Layout>
  );
}

/** @example String(<AdminUserPage detail={d} notice={null} t={en} />) */
export function AdminUserPage(props: { detail: AdminUserDetail; notice: AdminNotice | null; t: Messages }) {
  const t = props.t;
  const { user, accounts, sessions, organizations, passkeys } = props.detail;
  const confirm = (action: AdminAction, session?: string) =>
    `/admin/users/${user.id}/confirm/${action}${session ? `?session=${session}` : ""}`;
  return (
    <Layout title={t.admin.userTitle(who(user))} wide t={t}>
      <p>
        <a href="/admin">{t.admin.backToSearch}</a>
      </p>
      <Notice notice={props.notice} t={t} />
      <h1>
        {who(user)} {user.disabledAt ? <span class="tag">{t.admin.disabled}</span> : null}
      </h1>
      <p class="muted">
        <code>{user.id}</code>
        {user.name && user.email ? ` · ${user.name}` : ""}
        <br />
        <small>
          {t.admin.created(when(user.createdAt))} · {user.lastSignInAt ? t.admin.lastSignIn(when(user.lastSignInAt)) : t.admin.never}
        </small>
      </p>
      <h2 id="admin-actions">{t.admin.actions}</h2>
      <p aria-labelledby="admin-actions">
        {user.disabledAt ? (
          <a class="button small" href={confirm("enable")}>{t.admin.action.enable}</a>
        ) : (
          <a class="button small danger" href={confirm("disable")}>{t.admin.action.disable}</a>
        )}{" "}
        <a class="button small" href={confirm("revoke")}>{t.admin.action.revoke}</a>{" "}
        {user.disabledAt ? null : <a class="button small" href={confirm("impersonate")}>{t.admin.action.impersonate}</a>}{" "}
        <a class="button small danger" href={confirm("delete")}>{t.admin.action.delete}</a>
      </p>
      <h2 id="admin-accounts">{t.admin.accounts}</h2>
      {accounts.length === 0 ? <p class="muted">{t.admin.noAccounts}</p> : null}
      <ul class="plain">
        {accounts.map((a) => (
          <li>
            <span class="grow">
              {a.provider} · <code>{a.providerSubject}</code>
              {a.email ? <span class="muted"> · {a.email}</span> : null}
              <br />
              <small>{when(a.createdAt)}</small>
            </span>
          </li>
        ))}
      </ul>
      <h2 id="admin-passkeys">{t.passkeys.accountHeading}</h2>
      {passkeys.length === 0 ? <p class="muted">{t.passkeys.none}</p> : null}
      <ul class="plain">
        {passkeys.map((k) => (
          <li data-passkey-id={k.id}>
            <span class="grow">
              {k.name} <span class="tag">{k.deviceType === "multiDevice" ? t.passkeys.synced : t.passkeys.deviceBound}</span>
              <br />
              <small>
                {t.passkeys.created(when(k.createdAt))} · {k.lastUsedAt ? t.passkeys.lastUsed(when(k.lastUsedAt)) : t.passkeys.neverUsed}
              </small>
            </span>
          </li>
        ))}
      </ul>
      <h2 id="admin-sessions">{t.admin.sessions}</h2>
      {sessions.length === 0 ? <p class="muted">{t.admin.noSessions}</p> : null}
      <ul class="plain">
        {sessions.map((s) => (
          <li data-session={s.id}>
            <span class="grow">
              {deviceLabel(s.userAgent)} {s.impersonatorId ? <span class="tag">{t.admin.impersonated}</span> : null}
              {s.clientId ? <span class="tag">OAuth</span> : null}
              <br />
              <small>
                {s.ip ?? "—"} · {when(s.lastUsedAt)} · {when(s.createdAt)}
              </small>
            </span>
            <a class="button small" href={confirm("revokeOne", s.id)}>{t.admin.action.revokeOne}</a>
          </li>
        ))}
      </ul>
      <h2 id="admin-orgs">{t.admin.orgs}</h2>
      {organizations.length === 0 ? <p class="muted">{t.admin.noOrgs}</p> : null}
      <ul class="plain">
        {organizations.map((o) => (
          <li>
            <strong>{o.name}</strong> <span class="muted">/{o.slug}</span> <span class="tag">{o.role}</span>
          </li>
        ))}
      </ul>
      <Activity events={props.detail.events} t={t} title={t.admin.events} />
    </Layout>
  );
}

/** @example String(<AdminConfirmPage user={u} action="disable" sessionId={null} t={en} />) */
export function AdminConfirmPage(props: { user: AdminUserSummary; action: AdminAction; sessionId: string | null; t: Messages }) {
  const t = props.t;
  const name = who(props.user);
  const danger = props.action === "delete" || props.action === "disable";
  return (
    <Layout title={t.admin.confirmTitle} t={t}>
      <h1>{t.admin.confirmTitle}</h1>
      <p>{t.admin.confirm[props.action](name)}</p>
      <form method="post" action={actionPath(props.user.id, props.action)}>
        {props.sessionId ? <input type="hidden" name="session" value={props.sessionId} /> : null}
        <input type="hidden" name="confirm" value="yes" />
        <button class={danger ? "button danger" : "button"} type="submit">
          {t.admin.action[props.action]} — {t.admin.yes}
        </button>
      </form>
      <a href={`/admin/users/${props.user.id}`}>{t.admin.cancel}</a>
    </Layout>
  );
}
