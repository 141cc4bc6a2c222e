/** @jsxImportSource hono/jsx */
/**
 * The banner every page shows while an operator acts as a user
 * (impersonation): who, until when, and a POST button that ends it.
 */
import type { Messages } from "../i18n/en";
import { when } from "./activity";

/** @example String(<ImpersonationBanner who="ada@example.com" until={new Date()} t={en} />) */
export function ImpersonationBanner(props: { who: string; until: Date; t: Messages }) {
  return (
    <div role="alert" id="impersonation" style="background:#b3261e;color:#fff;padding:.6rem 1rem;display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;justify-content:center">
      <span>{props.t.admin.banner(props.who, when(props.until))}</span>
      <form method="post" action="/admin/impersonation/end" class="inline">
        <button type="submit" class="button small">
          {props.t.admin.endImpersonation}
        </button>
      </form>
    </div>
  );
}
