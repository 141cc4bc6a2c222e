/**
 * The Pages side of the Facebook fake: the `fb_exchange_token` grant (a
 * short-lived user token for a long-lived one, client id and secret checked)
 * and `/me/accounts` (also `/<user-id>/accounts`, which real `paging.next`
 * URLs use) with cursor paging, `tasks` and Page tokens, in Graph's shapes.
 *
 * Long-lived user tokens start with `EAAL`. Page tokens say which kind of
 * user token listed them (`EAAPL-…` long-lived, `EAAPS-…` short-lived), so a
 * test can prove the exchange happened before the listing.
 */
import { createHmac } from "node:crypto";
import { CLIENTS } from "./clients.ts";
import { faultResponse, json } from "./flow.ts";
import { state } from "./state.ts";
import type { FakeFacebookPage } from "./types.ts";

type GraphError = (code: string | number) => Response;

/** `GET|POST /{v}/oauth/access_token?grant_type=fb_exchange_token&client_id&client_secret&fb_exchange_token`. */
export async function exchangeToken(request: Request, params: URLSearchParams, graphError: GraphError): Promise<Response> {
  const issued = state.tokens.get(params.get("fb_exchange_token") ?? "");
  state.record({ provider: "facebook", endpoint: "exchange", method: request.method, ...(issued ? { scenario: issued.grant.scenarioId } : {}) });
  const client = CLIENTS.facebook;
  if (params.get("client_id") !== client.clientId || params.get("client_secret") !== client.clientSecret) return graphError(1);
  if (!issued || issued.expiresAt <= Date.now() || issued.grant.provider !== "facebook") return graphError(190);
  const fault = await faultResponse(issued.grant.scenario.exchange, graphError);
  if (fault) return fault;
  const ttl = 5184000;
  const token = state.issueToken("EAAL", issued.grant, issued.scopes, ttl);
  return json({ access_token: token, token_type: "bearer", expires_in: ttl });
}

/** `GET /{v}/me/accounts` and `GET /{v}/<user-id>/accounts`. */
export async function listAccounts(request: Request, url: URL, version: string, graphError: GraphError): Promise<Response> {
  const issued = state.bearer(request, url);
  state.record({ provider: "facebook", endpoint: "accounts", method: request.method, ...(issued ? { scenario: issued.grant.scenarioId } : {}) });
  if (!issued) return graphError(190);
  const bearer = request.headers.get("authorization")?.slice(7) ?? url.searchParams.get("access_token") ?? "";
  const proof = url.searchParams.get("appsecret_proof");
  if (proof !== null && proof !== createHmac("sha256", CLIENTS.facebook.clientSecret).update(bearer).digest("hex")) {
    return json({ error: { message: "Invalid appsecret_proof provided in the API argument", type: "GraphMethodException", code: 100, fbtrace_id: "x" } }, 400);
  }
  const { scenario, user } = issued.grant;
  const node = url.pathname.split("/")[2];
  if (node !== "me" && node !== user.id) return json({ error: { message: "Unsupported get request.", type: "GraphMethodException", code: 100, fbtrace_id: "x" } }, 400);

  const limit = Math.min(Math.max(Number(url.searchParams.get("limit") ?? 25) || 25, 1), 100);
  const after = url.searchParams.get("after");
  const start = after === null ? 0 : decodeCursor(after);
  if (start === null) return json({ error: { message: "Invalid cursor", type: "OAuthException", code: 100, fbtrace_id: "x" } }, 400);
  const graphPage = Math.floor(start / limit) + 1;
  if (scenario.accounts && (scenario.accountsFaultAtPage === undefined || scenario.accountsFaultAtPage === graphPage)) {
    const fault = await faultResponse(scenario.accounts, graphError);
    if (fault) return fault;
  }

  // Without pages_show_list Graph lists nothing.
  const all = issued.scopes.includes("pages_show_list") ? pagesOf(scenario.facebookPages) : [];
  const slice = all.slice(start, start + limit);
  const longLived = bearer.startsWith("EAAL");
  const fields = (url.searchParams.get("fields") ?? "id,name,category,tasks,access_token").split(",");
  const data = slice.map((p) => {
    const entry: Record<string, unknown> = {
      id: p.id,
      name: p.name ?? `Page ${p.id}`,
      category: p.category ?? "Brand",
      category_list: [{ id: "2301", name: p.category ?? "Brand" }],
      tasks: p.tasks ?? ["ANALYZE", "ADVERTISE", "MODERATE", "CREATE_CONTENT", "MANAGE"],
      ...(p.withoutToken ? {} : { access_token: `${longLived ? "EAAPL" : "EAAPS"}-${issued.grant.scenarioId}-${p.id}` }),
    };
    if (p.category === null) delete entry.category;
    return Object.fromEntries(fields.filter((f) => f in entry).map((f) => [f, entry[f]]));
  });
  const paging: Record<string, unknown> = {
    cursors: { before: encodeCursor(start), after: encodeCursor(start + slice.length) },
  };
  if (start + limit < all.length) {
    const base = scenario.accountsNextBase ?? `https://graph.facebook.com/${version}`;
    const next = new URL(`${base}/${user.id}/accounts`);
    // Real `next` URLs carry the access token in the query string.
    next.searchParams.set("access_token", bearer);
    next.searchParams.set("fields", fields.join(","));
    next.searchParams.set("limit", String(limit));
    next.searchParams.set("after", encodeCursor(start + limit));
    paging.next = next.href;
  }
  return json(slice.length === 0 && start === 0 ? { data: [] } : { data, paging });
}

function pagesOf(pages: FakeFacebookPage[] | { count: number; idPrefix?: string } | undefined): FakeFacebookPage[] {
  if (pages === undefined) return [];
  if (Array.isArray(pages)) return pages;
  const prefix = pages.idPrefix ?? "1000";
  return Array.from({ length: pages.count }, (_, i) => ({ id: `${prefix}${i + 1}`, name: `Page ${i + 1}` }));
}

/** Opaque-looking cursors like Graph's (`QVFI…`), holding an offset. */
function encodeCursor(offset: number): string {
  return Buffer.from(`QVFI:${offset}`).toString("base64url");
}

function decodeCursor(cursor: string): number | null {
  const match = /^QVFI:(\d+)$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  return match ? Number(match[1]) : null;
}
