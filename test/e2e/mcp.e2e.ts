/**
 * An MCP client built on the official MCP TypeScript SDK (its
 * OAuthClientProvider, `auth()` and StreamableHTTPClientTransport) against
 * the example MCP server (examples/mcp) of the local stack, with headless
 * Chromium doing the user's part (sign-in at the local provider, consent):
 * discovery (protected-resource metadata, then gatehouse's), registration
 * (a Client ID Metadata Document served by this test on http://127.0.0.1,
 * accepted because the stack runs with GATEHOUSE_DEVELOPMENT; or dynamic
 * client registration, open in `npm run dev`), the code flow with PKCE and
 * `resource`, a tool call, a 403 insufficient_scope, step-up, a refresh,
 * and a token for another resource refused with 401 invalid_token.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { auth, exchangeAuthorization, extractWWWAuthenticateParams, startAuthorization, UnauthorizedError, type OAuthClientProvider } from "@modelcontextprotocol/sdk/client/auth.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from "@modelcontextprotocol/sdk/shared/auth.js";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launchBrowser, loginAtProvider, newContext, screenshot, type PageWatch } from "./browser";

const stack = inject("stack");
const RUN = Date.now().toString(36);

/** Every request the SDK made (MCP and OAuth), with what matters for the assertions. */
interface Exchange {
  method: string;
  url: string;
  status: number;
  grantType: string | null;
  wwwAuthenticate: string | null;
}

/** The client's own web server: its metadata document and its redirect URI (http://127.0.0.1, like a local MCP client). */
let clientSite: Server;
let clientOrigin: string;
let browser: Browser;
let context: BrowserContext;
let watch: PageWatch;
let page: Page;

beforeAll(async () => {
  clientSite = createServer((req, res) => {
    if (req.url === "/client.json") {
      res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" }).end(JSON.stringify(clientMetadata(`${clientOrigin}/client.json`)));
    } else if (req.url?.startsWith("/callback?")) {
      res.writeHead(200, { "content-type": "text/plain" }).end("You can close this window.");
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => clientSite.listen(0, "127.0.0.1", resolve));
  clientOrigin = `http://127.0.0.1:${(clientSite.address() as AddressInfo).port}`;
  browser = await launchBrowser();
  ({ context, watch } = await newContext(browser));
  page = await context.newPage();
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => clientSite?.close(resolve));
});

function clientMetadata(clientId?: string): OAuthClientMetadata & { client_id?: string } {
  return {
    ...(clientId ? { client_id: clientId } : {}),
    client_name: `gatehouse e2e MCP client ${RUN}`,
    redirect_uris: [`${clientOrigin}/callback`],
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
    token_endpoint_auth_method: "none",
  };
}

/**
 * An OAuthClientProvider kept in memory, whose "redirect" is the browser
 * going through sign-in and consent; it keeps the code for `finishAuth`.
 */
class BrowserProvider implements OAuthClientProvider {
  private client: OAuthClientInformationMixed | undefined;
  private saved: OAuthTokens | undefined;
  private verifier = "";
  private expectedState = "";
  code: string | null = null;
  /** What the consent page showed, per authorization. */
  consentTexts: string[] = [];

  constructor(client?: OAuthClientInformationMixed) {
    this.client = client;
  }

  get redirectUrl(): string {
    return `${clientOrigin}/callback`;
  }
  get clientMetadata(): OAuthClientMetadata {
    return clientMetadata();
  }
  state(): string {
    this.expectedState = crypto.randomUUID();
    return this.expectedState;
  }
  clientInformation(): OAuthClientInformationMixed | undefined {
    return this.client;
  }
  saveClientInformation(info: OAuthClientInformationMixed): void {
    this.client = info;
  }
  tokens(): OAuthTokens | undefined {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens): void {
    this.saved = tokens;
  }
  saveCodeVerifier(verifier: string): void {
    this.verifier = verifier;
  }
  codeVerifier(): string {
    return this.verifier;
  }
  async redirectToAuthorization(url: URL): Promise<void> {
    const { code, consent } = await consentInBrowser(url, this.expectedState);
    this.code = code;
    this.consentTexts.push(consent);
  }
  /** An access token that no longer works (as after its 10 minutes), the refresh token kept. */
  expireAccessToken(): void {
    this.saved = { ...this.saved!, access_token: "expired" };
  }
  /** Forgets the tokens (SDK 1.x refreshes on a 403 instead of re-authorizing: docs/mcp.md). */
  forgetTokens(): void {
    this.saved = undefined;
  }
}

/** Sign-in (when needed) at the local provider, then Allow on gatehouse's consent page; the code from the redirect. */
async function consentInBrowser(url: URL, state: string): Promise<{ code: string; consent: string }> {
  await page.goto(url.href);
  if (page.url().startsWith(`${stack.authUrl}/auth/signin`)) {
    await page.getByRole("link", { name: "Continue with Local" }).click();
    await loginAtProvider(page, stack.oidcUrl, `mcp-${RUN}`);
  }
  // The consent page, or straight back when the user already granted this (no prompt=consent).
  await page.waitForURL((u) => u.href.startsWith(`${stack.authUrl}/oauth/authorize?`) || u.href.startsWith(`${clientOrigin}/callback?`));
  let consent = "";
  if (!page.url().startsWith(clientOrigin)) {
    await expect.poll(() => page.getByRole("button", { name: "Allow" }).isVisible()).toBe(true);
    consent = (await page.locator("main").textContent()) ?? "";
    await page.getByRole("button", { name: "Allow" }).click();
    await page.waitForURL(`${clientOrigin}/callback?**`);
  }
  const back = new URL(page.url());
  expect(back.searchParams.get("state")).toBe(state);
  // RFC 9207 (a MUST for clients in MCP 2026-07-28): the response names its issuer.
  expect(back.searchParams.get("iss")).toBe(stack.authUrl);
  const code = back.searchParams.get("code");
  expect(code, back.href).toBeTruthy();
  return { code: code!, consent };
}

function recorder(log: Exchange[]): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init);
    const body = request.method === "POST" ? await request.clone().text() : "";
    const response = await fetch(request);
    log.push({
      method: request.method,
      url: request.url,
      status: response.status,
      grantType: request.url === `${stack.authUrl}/oauth/token` ? new URLSearchParams(body).get("grant_type") : null,
      wwwAuthenticate: response.headers.get("www-authenticate"),
    });
    return response;
  };
}

/** Connects as MCP clients do: the first attempt is refused (401), the user authorizes, the second attempt connects. */
async function connect(provider: BrowserProvider, log: Exchange[]): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const open = () => {
    const transport = new StreamableHTTPClientTransport(new URL(stack.mcpUrl), { authProvider: provider, fetch: recorder(log) });
    return { transport, client: new Client({ name: "gatehouse-e2e", version: "1.0.0" }) };
  };
  const first = open();
  await expect(first.client.connect(first.transport)).rejects.toBeInstanceOf(UnauthorizedError);
  await first.transport.finishAuth(provider.code!);
  const second = open();
  await second.client.connect(second.transport);
  return second;
}

const tokenGrants = (log: Exchange[], grant: string) => log.filter((e) => e.grantType === grant && e.status === 200).length;
const notesOf = (result: unknown) => (result as { structuredContent?: { notes?: string[] } }).structuredContent?.notes;

/**
 * The scenario both registrations share, after `connect`: a read, a write
 * refused for scope, step-up, the write, a refresh, and the write again.
 */
async function readWriteStepUpRefresh(provider: BrowserProvider, client: Client, log: Exchange[]): Promise<void> {
  // The same user in both scenarios: notes from an earlier one are still there (examples/mcp keeps them per user).
  const earlier = notesOf(await client.callTool({ name: "notes_list", arguments: {} }));
  expect(Array.isArray(earlier)).toBe(true);
  const n = earlier!.length;

  // notes_add needs notes:write, which the first authorization did not ask for.
  await expect(client.callTool({ name: "notes_add", arguments: { text: "first" } })).rejects.toThrow(/403/);
  const refusal = log.find((e) => e.status === 403 && e.url === stack.mcpUrl);
  expect(refusal?.wwwAuthenticate).toBe(
    `Bearer error="insufficient_scope", error_description="This call needs the scope notes:write.", scope="notes:read offline_access notes:write", resource_metadata="${new URL(stack.mcpUrl).origin}/.well-known/oauth-protected-resource/mcp"`,
  );

  // Step-up: a new authorization for the held scopes plus notes:write (the consent page names the new one).
  const { scope } = extractWWWAuthenticateParams(new Response(null, { headers: { "www-authenticate": refusal!.wwwAuthenticate! } }));
  provider.forgetTokens();
  expect(await auth(provider, { serverUrl: stack.mcpUrl, scope, fetchFn: recorder(log) })).toBe("REDIRECT");
  expect(await auth(provider, { serverUrl: stack.mcpUrl, scope, authorizationCode: provider.code!, fetchFn: recorder(log) })).toBe("AUTHORIZED");
  expect(provider.tokens()?.scope?.split(" ").sort()).toEqual(["notes:read", "notes:write", "offline_access"]);
  expect(await client.callTool({ name: "notes_add", arguments: { text: "first" } })).toMatchObject({ structuredContent: { count: n + 1 } });
  expect(notesOf(await client.callTool({ name: "notes_list", arguments: {} }))).toEqual([...earlier!, "first"]);

  // The access token stops working: the SDK refreshes (one refresh grant) and the call goes through, scopes intact.
  const refreshesBefore = tokenGrants(log, "refresh_token");
  const refreshTokenBefore = provider.tokens()!.refresh_token;
  provider.expireAccessToken();
  expect(await client.callTool({ name: "notes_add", arguments: { text: "second" } })).toMatchObject({ structuredContent: { count: n + 2 } });
  expect(tokenGrants(log, "refresh_token")).toBe(refreshesBefore + 1);
  expect(provider.tokens()!.refresh_token).not.toBe(refreshTokenBefore);
  expect(log.some((e) => e.url === stack.mcpUrl && e.status === 401 && e.wwwAuthenticate?.includes('error="invalid_token"'))).toBe(true);
  expect(notesOf(await client.callTool({ name: "notes_list", arguments: {} }))).toEqual([...earlier!, "first", "second"]);
}

describe("an MCP client (official SDK) against examples/mcp", () => {
  it("registers with a Client ID Metadata Document, authorizes with PKCE, calls a tool, steps up for another, refreshes", async () => {
    const log: Exchange[] = [];
    const cimd = `${clientOrigin}/client.json`;
    // SDK 1.x accepts only https metadata-document URLs itself; a development document on 127.0.0.1 is handed over as the client id.
    const provider = new BrowserProvider({ client_id: cimd });
    const { client, transport } = await connect(provider, log);

    // Discovery: the 401's resource_metadata, the protected-resource metadata, then gatehouse's metadata.
    const first = log[0]!;
    expect(first).toMatchObject({ method: "POST", url: stack.mcpUrl, status: 401 });
    expect(first.wwwAuthenticate).toBe(`Bearer scope="notes:read offline_access", resource_metadata="${new URL(stack.mcpUrl).origin}/.well-known/oauth-protected-resource/mcp"`);
    const prm = await (await fetch(`${new URL(stack.mcpUrl).origin}/.well-known/oauth-protected-resource/mcp`)).json();
    expect(prm).toMatchObject({ resource: stack.mcpUrl, authorization_servers: [stack.authUrl], scopes_supported: ["notes:read", "notes:write"] });
    expect(log.some((e) => e.url === `${new URL(stack.mcpUrl).origin}/.well-known/oauth-protected-resource/mcp` && e.status === 200)).toBe(true);
    expect(log.some((e) => e.url.startsWith(`${stack.authUrl}/.well-known/`) && e.status === 200)).toBe(true);
    const asMetadata = (await (await fetch(`${stack.authUrl}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    expect(asMetadata).toMatchObject({ client_id_metadata_document_supported: true, code_challenge_methods_supported: ["S256"] });
    // No registration: the document's URL is the client id; the consent page shows the document's host.
    expect(log.some((e) => e.url.endsWith("/oauth/register"))).toBe(false);
    expect(provider.consentTexts[0]).toContain(`gatehouse e2e MCP client ${RUN}`);
    expect(provider.consentTexts[0]).toContain(new URL(clientOrigin).host);
    expect(tokenGrants(log, "authorization_code")).toBe(1);
    await screenshot(page, "mcp-consent-done");

    await readWriteStepUpRefresh(provider, client, log);
    await client.close();
    await transport.close();
  });

  it("registers through dynamic client registration instead, then the same flow", async () => {
    const log: Exchange[] = [];
    const provider = new BrowserProvider();
    const { client, transport } = await connect(provider, log);
    const registration = log.find((e) => e.url === `${stack.authUrl}/oauth/register`);
    expect(registration).toMatchObject({ method: "POST", status: 201 });
    const clientId = provider.clientInformation()?.client_id;
    expect(clientId).toMatch(/^[0-9a-f-]{36}$/);
    await readWriteStepUpRefresh(provider, client, log);
    await client.close();
    await transport.close();
  });

  it("a gatehouse token for another resource (the example API) is refused by the MCP server: 401 invalid_token", async () => {
    const log: Exchange[] = [];
    const provider = new BrowserProvider({ client_id: `${clientOrigin}/client.json` });
    const metadata = (await (await fetch(`${stack.authUrl}/.well-known/oauth-authorization-server`)).json()) as Parameters<typeof startAuthorization>[1]["metadata"];
    const { authorizationUrl, codeVerifier } = await startAuthorization(stack.authUrl, {
      metadata,
      clientInformation: provider.clientInformation()!,
      redirectUrl: provider.redirectUrl,
      scope: "notes:read",
      state: provider.state(),
      resource: stack.apiUrl,
    });
    await provider.redirectToAuthorization(authorizationUrl);
    const tokens = await exchangeAuthorization(stack.authUrl, {
      metadata,
      clientInformation: provider.clientInformation()!,
      authorizationCode: provider.code!,
      codeVerifier,
      redirectUri: provider.redirectUrl,
      resource: stack.apiUrl,
      fetchFn: recorder(log),
    });
    // Good where it was issued for…
    const api = await fetch(`${stack.apiUrl}/hello`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(api.status).toBe(200);
    // …refused by the MCP server, with the challenge that sends the client to discovery.
    const res = await fetch(stack.mcpUrl, {
      method: "POST",
      headers: { authorization: `Bearer ${tokens.access_token}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "notes_list", arguments: {} } }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer error="invalid_token", error_description="[^"]+", scope="notes:read offline_access", resource_metadata="/);
    expect(await res.json()).toMatchObject({ error: "invalid_token" });
  });

  it("no page broke its Content-Security-Policy", () => {
    expect(watch.cspViolations).toEqual([]);
  });
});
