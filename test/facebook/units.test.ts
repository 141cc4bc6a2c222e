/**
 * The pure parts of a connect: which `paging.next` URLs are followed (only
 * Graph, only our version, only an /accounts edge), and FACEBOOK_PAGE_SCOPES.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config";
import { cursorOfNext } from "../../src/providers/facebook-pages";

describe("cursorOfNext", () => {
  it.each([
    ["Graph's own next (user id node, token in the query)", "https://graph.facebook.com/v24.0/10158000000000001/accounts?access_token=EAAL&limit=100&after=QVFIUmFi", "QVFIUmFi"],
    ["a /me next", "https://graph.facebook.com/v24.0/me/accounts?after=abc_-=", "abc_-="],
  ])("follows %s", (_, next, cursor) => {
    expect(cursorOfNext(next, "v24.0")).toBe(cursor);
  });

  it.each([
    ["another host", "https://evil.example/v24.0/me/accounts?after=x"],
    ["a look-alike host", "https://graph.facebook.com.evil.example/v24.0/me/accounts?after=x"],
    ["credentials in the URL", "https://a:b@graph.facebook.com/v24.0/me/accounts?after=x"],
    ["plain http", "http://graph.facebook.com/v24.0/me/accounts?after=x"],
    ["another port", "https://graph.facebook.com:8443/v24.0/me/accounts?after=x"],
    ["another version", "https://graph.facebook.com/v2.0/me/accounts?after=x"],
    ["no version", "https://graph.facebook.com/me/accounts?after=x"],
    ["another edge", "https://graph.facebook.com/v24.0/me/feed?after=x"],
    ["a deeper path", "https://graph.facebook.com/v24.0/me/accounts/extra?after=x"],
    ["another node", "https://graph.facebook.com/v24.0/someone/accounts?after=x"],
    ["no cursor", "https://graph.facebook.com/v24.0/me/accounts?limit=100"],
    ["a strange cursor", "https://graph.facebook.com/v24.0/me/accounts?after=%3Cscript%3E"],
    ["not a URL", "not a url"],
    ["not a string", 42],
  ])("refuses %s", (_, next) => {
    expect(cursorOfNext(next, "v24.0")).toBeNull();
  });
});

describe("FACEBOOK_PAGE_SCOPES", () => {
  const parse = (overrides: Record<string, unknown>) => parseConfig({ ...(env as unknown as Record<string, unknown>), ...overrides });

  it("defaults to pages_show_list pages_read_engagement pages_manage_posts", () => {
    const result = parse({});
    expect(result.ok && result.config.facebook.pageScopes).toEqual(["pages_show_list", "pages_read_engagement", "pages_manage_posts"]);
  });

  it("takes a list separated by spaces or commas", () => {
    const result = parse({ FACEBOOK_PAGE_SCOPES: "pages_show_list,read_insights pages_manage_metadata" });
    expect(result.ok && result.config.facebook.pageScopes).toEqual(["pages_show_list", "read_insights", "pages_manage_metadata"]);
  });

  it.each([
    ["without pages_show_list", "pages_manage_posts", { variable: "FACEBOOK_PAGE_SCOPES", problem: "invalid", hint: "must include pages_show_list" }],
    ["quoted", '"pages_show_list"', { variable: "FACEBOOK_PAGE_SCOPES", problem: "quoted" }],
    ["empty", "", { variable: "FACEBOOK_PAGE_SCOPES", problem: "empty" }],
  ])("is a named problem %s", (_, value, problem) => {
    const result = parse({ FACEBOOK_PAGE_SCOPES: value });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems).toContainEqual(expect.objectContaining(problem));
  });
});
