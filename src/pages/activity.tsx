/** @jsxImportSource hono/jsx */
/**
 * "Recent activity": audit events as people read them (time, the action in
 * words, device, country and address). Shared by the account page (the
 * user's own history) and the admin page's user detail. Secrets are never
 * in events (src/db/audit.ts), so nothing here needs hiding.
 */
import type { AuditEventView } from "../db/audit-read";
import { en, type Messages } from "../i18n/en";
import { deviceLabel } from "../lib/user-agent";

/** "2026-11-22 00:06 UTC". */
export function when(iso: string | Date): string {
  return `${(typeof iso === "string" ? iso : iso.toISOString()).slice(0, 16).replace("T", " ")} UTC`;
}

/**
 * The action in the page's language; an action without words shows as its code.
 *
 * @example
 * actionInWords("signin.success", en); // "Signed in"
 */
export function actionInWords(action: string, t: Messages = en): string {
  return Object.hasOwn(t.activity.actions, action) ? (t.activity.actions[action] ?? action) : action;
}

/** @example <Activity events={events} t={t} /> */
export function Activity(props: { events: readonly AuditEventView[]; t: Messages; title?: string; olderHref?: string | null }) {
  const t = props.t;
  return (
    <section aria-labelledby="activity">
      <h2 id="activity">{props.title ?? t.activity.title}</h2>
      {props.events.length === 0 ? <p class="muted">{t.activity.none}</p> : null}
      <ul class="plain">
        {props.events.map((e) => (
          <li data-event={e.action}>
            <span class="grow">
              {actionInWords(e.action, t)}
              {e.flags.map((f) => (
                <>
                  {" "}
                  <span class="tag">{f}</span>
                </>
              ))}
              <br />
              <small>
                {when(e.at)} · {e.userAgent ? deviceLabel(e.userAgent) : t.activity.unknownDevice} · {t.activity.where(e.country, e.ip)}
              </small>
            </span>
          </li>
        ))}
      </ul>
      {props.olderHref ? <a href={props.olderHref}>{t.activity.older}</a> : null}
    </section>
  );
}
