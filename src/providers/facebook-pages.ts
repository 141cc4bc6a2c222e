/**
 * Facebook Pages connect, after the sign-in code exchange: trade the
 * short-lived user token for a long-lived one, then list the user's Pages
 * (`/me/accounts`) with their Page tokens. Page tokens obtained with a
 * long-lived user token do not expire, which is why the exchange comes first.
 *
 * Nothing here writes: the caller stores the whole result in ONE database
 * batch, or nothing at all when anything here failed. A listing that could not
 * be read completely is an error, never a shorter list, because pages missing
 * from a complete list are marked gone.
 */
import { cleanText } from "../lib/profile";
import type { ProviderConfig } from "../config";
import { GatehouseError } from "../error";
import { log } from "../lib/log";
import { appSecretProof, classifyGraphError, GRAPH } from "./facebook";
import { providerFailure } from "./failure";
import { getJsonObject, isObject, type GetJsonOptions } from "./http";
import type { ProviderOptions, ProviderTokenSet } from "./types";

/** Graph pages of `/me/accounts` followed at most (each of {@link PAGE_LIMIT}). */
export const MAX_GRAPH_PAGES = 10;
/** Entries asked for per Graph page. */
export const PAGE_LIMIT = 100;
/** The one scope without which `/me/accounts` lists nothing (config requires it in FACEBOOK_PAGE_SCOPES). */
export const PAGES_LIST_SCOPE = "pages_show_list";

const PAGE_FIELDS = "id,name,category,tasks,access_token";
const PAGE_ID = /^[0-9A-Za-z_-]{1,64}$/;

/** One Page the user manages, as `/me/accounts` lists it. */
export interface FacebookPage {
  id: string;
  name: string;
  category: string | null;
  /** The user's tasks on the Page, e.g. `["MODERATE", "CREATE_CONTENT"]`. */
  tasks: string[];
  /** Absent when Facebook gives the user no token for this Page. */
  accessToken: string | null;
}

/** What a connect stores: the long-lived user token and every listed Page. */
export interface FacebookConnection {
  userToken: ProviderTokenSet;
  pages: FacebookPage[];
  /** True when the user has more Pages than {@link MAX_GRAPH_PAGES} × {@link PAGE_LIMIT}; the rest were not read. */
  capped: boolean;
}

/**
 * Runs the Graph side of a connect with the sign-in's tokens. Throws
 * `AccessDenied` when the user declined `pages_show_list`, `OAuthCallback`
 * for a rejected token (Graph code 190: the user must connect again), and
 * `ProviderUnavailable` for throttling (4, 17, 32, 613), outages and a
 * malformed or foreign `paging.next`.
 *
 * @example
 * const { userToken, pages, capped } = await fetchFacebookConnection(providerConfig, providerOptions(config), tokens);
 */
export async function fetchFacebookConnection(
  config: ProviderConfig,
  options: ProviderOptions,
  signInTokens: ProviderTokenSet,
): Promise<FacebookConnection> {
  if (!signInTokens.scopes.includes(PAGES_LIST_SCOPE)) {
    log("info", "facebook_pages_declined", { provider: config.id });
    throw new GatehouseError("AccessDenied", "Facebook did not grant access to your Pages, so none could be connected.", {
      extra: { provider: config.id, providerError: "pages_show_list_declined" },
    });
  }
  const userToken = await exchangeForLongLived(config, options, signInTokens);
  const { pages, capped } = await listPages(config, options, userToken.accessToken);
  if (capped) log("warn", "facebook_pages_capped", { provider: config.id, pages: pages.length });
  return { userToken, pages, capped };
}

/** `GET /oauth/access_token?grant_type=fb_exchange_token…` → a token valid for about 60 days. */
async function exchangeForLongLived(config: ProviderConfig, options: ProviderOptions, short: ProviderTokenSet): Promise<ProviderTokenSet> {
  const url = new URL(`${GRAPH}/${options.graphVersion}/oauth/access_token`);
  url.searchParams.set("grant_type", "fb_exchange_token");
  url.searchParams.set("client_id", config.clientId);
  url.searchParams.set("client_secret", config.clientSecret);
  url.searchParams.set("fb_exchange_token", short.accessToken);
  const body = await getJsonObject(config.id, "token", url, short.accessToken, graphOptions(options));
  const accessToken = body.access_token;
  if (typeof accessToken !== "string" || accessToken.length === 0 || accessToken.length > 4096) {
    throw providerFailure(config.id, "token", "ProviderUnavailable", "exchange_without_token");
  }
  const expiresIn = body.expires_in;
  return {
    accessToken,
    refreshToken: null,
    // No expires_in: Facebook issued a token that does not expire.
    expiresAt: typeof expiresIn === "number" && expiresIn > 0 ? new Date(Date.now() + expiresIn * 1000) : null,
    scopes: short.scopes,
  };
}

/** `/me/accounts`, following `paging.next` up to the cap. */
async function listPages(config: ProviderConfig, options: ProviderOptions, accessToken: string): Promise<{ pages: FacebookPage[]; capped: boolean }> {
  const base = new URL(`${GRAPH}/${options.graphVersion}/me/accounts`);
  base.searchParams.set("fields", PAGE_FIELDS);
  base.searchParams.set("limit", String(PAGE_LIMIT));
  base.searchParams.set("appsecret_proof", await appSecretProof(accessToken, config.clientSecret));

  const pages = new Map<string, FacebookPage>();
  let after: string | null = null;
  for (let request = 1; ; request++) {
    const url = new URL(base);
    if (after !== null) url.searchParams.set("after", after);
    const body = await getJsonObject(config.id, "profile", url, accessToken, graphOptions(options));
    if (!Array.isArray(body.data)) throw providerFailure(config.id, "profile", "ProviderUnavailable", "pages_without_data");
    for (const entry of body.data) {
      const page = pageFrom(entry);
      if (!page) throw providerFailure(config.id, "profile", "ProviderUnavailable", "malformed_page");
      // Cursor paging can repeat an entry when the list changes meanwhile; the first copy wins.
      if (!pages.has(page.id)) pages.set(page.id, page);
    }
    const next = isObject(body.paging) ? body.paging.next : undefined;
    if (next === undefined || next === null) return { pages: [...pages.values()], capped: false };
    if (request >= MAX_GRAPH_PAGES) return { pages: [...pages.values()], capped: true };
    after = cursorOfNext(next, options.graphVersion);
    if (after === null) throw providerFailure(config.id, "profile", "ProviderUnavailable", "paging_next_rejected");
  }
}

/**
 * The `after` cursor of a `paging.next` URL, or `null` unless it is an https
 * URL on graph.facebook.com, of our Graph version, for an `/accounts` edge.
 * The request itself is rebuilt from our own URL: the access token never
 * travels in a query string, and the fields and limit stay ours.
 *
 * @example
 * cursorOfNext("https://graph.facebook.com/v24.0/1015/accounts?after=QVFI", "v24.0") // "QVFI"
 */
export function cursorOfNext(next: unknown, graphVersion: string): string | null {
  if (typeof next !== "string" || next.length > 8192) return null;
  let url: URL;
  try {
    url = new URL(next);
  } catch {
    return null;
  }
  if (url.protocol !== "https:" || url.host !== new URL(GRAPH).host || url.username || url.password) return null;
  const [, version, node, edge, ...rest] = url.pathname.split("/");
  if (version !== graphVersion || !node || !/^(me|[0-9]{1,32})$/.test(node) || edge !== "accounts" || rest.length > 0) return null;
  const after = url.searchParams.get("after");
  return after !== null && /^[A-Za-z0-9_=+/-]{1,1024}$/.test(after) ? after : null;
}

function pageFrom(entry: unknown): FacebookPage | null {
  if (!isObject(entry)) return null;
  const { id, name, category, tasks, access_token: token } = entry;
  // Text from Graph is cleaned like every other profile field: no NUL (Postgres refuses it), no bidi controls (spoofing).
  const cleanName = cleanText(name, 500);
  if (typeof id !== "string" || !PAGE_ID.test(id) || cleanName === null) return null;
  if (tasks !== undefined && !(Array.isArray(tasks) && tasks.every((t) => typeof t === "string"))) return null;
  return {
    id,
    name: cleanName,
    category: cleanText(category, 200),
    tasks: ((tasks as string[] | undefined) ?? []).slice(0, 50).flatMap((t) => cleanText(t, 100) ?? []),
    accessToken: typeof token === "string" && token.length > 0 && token.length <= 4096 ? token : null,
  };
}

function graphOptions(options: ProviderOptions): GetJsonOptions {
  return { timeoutMs: options.timeoutMs, classify: classifyGraphError };
}
