/**
 * The example remote MCP server (Streamable HTTP), protected by gatehouse:
 * the official MCP TypeScript SDK answers the protocol, `protectedResource`
 * from gatehouse/verify answers everything about tokens (RFC 9728 metadata,
 * 401 with `resource_metadata`, 403 `insufficient_scope` for step-up, tokens
 * for other resources refused). Two tools over a notes list kept in memory:
 *
 *   notes_list   scope notes:read   the caller's notes (the organization's, when the token carries `org`)
 *   notes_add    scope notes:write  adds one; in an organization only its owners and admins may
 *
 * `createMcpHandler` is a web-standard `(Request) => Promise<Response>`: the
 * same code is a Cloudflare Worker's `fetch` (docs/mcp.md); here it runs on
 * Node through @hono/node-server. Run alone: `npx tsx examples/mcp/server.ts`
 * (AUTH_URL, MCP_PORT override the defaults); `npm run dev` starts it with
 * the rest and lists its endpoint in gatehouse's ALLOWED_AUDIENCES.
 */
import { serve } from "@hono/node-server";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult } from "@modelcontextprotocol/sdk/types.js";
// A self-reference: package.json `exports["./verify"]` → src/verify.ts, as an MCP server would import it.
import { protectedResource, type AccessTokenClaims } from "gatehouse/verify";

export interface ExampleMcpOptions {
  /** gatehouse's AUTH_URL, e.g. `http://localhost:8787`: the authorization server and the JWKS. */
  authUrl: string;
  /** This server's MCP endpoint, its RFC 8707 resource (listed in gatehouse's ALLOWED_AUDIENCES), e.g. `http://localhost:8789/mcp`. */
  resource: string;
}

/** Each tool and the scope a call to it needs (on top of `notes:read`, needed by every request). */
const TOOL_SCOPES: Record<string, string> = { notes_list: "notes:read", notes_add: "notes:write" };
const MAX_NOTE_LENGTH = 500;

const TOOLS = [
  {
    name: "notes_list",
    title: "List notes",
    description: "Lists your notes (your organization's, when you granted access for one).",
    inputSchema: { type: "object" as const, properties: {} },
    annotations: { readOnlyHint: true },
  },
  {
    name: "notes_add",
    title: "Add a note",
    description: "Adds a note. Needs the notes:write scope; in an organization, the owner or admin role.",
    inputSchema: { type: "object" as const, properties: { text: { type: "string", minLength: 1, maxLength: MAX_NOTE_LENGTH } }, required: ["text"] },
  },
];

/**
 * The MCP server as a web fetch handler: `/.well-known/oauth-protected-resource/<path>`,
 * the MCP endpoint (POST only: stateless, JSON answers) and `/health`.
 *
 * @example
 * const handle = createMcpHandler({ authUrl: "https://auth.example.com", resource: "https://mcp.example.com/mcp" });
 * export default { fetch: handle }; // a Cloudflare Worker
 */
export function createMcpHandler(options: ExampleMcpOptions): (request: Request) => Promise<Response> {
  const mcp = protectedResource({
    resource: options.resource,
    issuer: new URL(options.authUrl).origin,
    resourceName: "Example notes (MCP)",
    scopesSupported: ["notes:read", "notes:write"],
    requiredScopes: ["notes:read"],
    // What a client without a token asks for first; notes:write comes later, by step-up.
    challengeScopes: ["notes:read", "offline_access"],
  });
  const endpoint = new URL(options.resource).pathname;
  /** Notes by owner: the organization id when the token carries one, else the user id. */
  const notes = new Map<string, string[]>();

  return async (request) => {
    const url = new URL(request.url);
    if (url.pathname === "/health") return Response.json({ ok: true });
    if (url.pathname === mcp.metadataPath) return mcp.metadataResponse();
    if (url.pathname !== endpoint) return Response.json({ error: "not_found" }, { status: 404 });
    if (request.method === "OPTIONS") return new Response(null, { status: 204, headers: CORS });
    const auth = await mcp.authenticate(request.headers.get("authorization"));
    if (!auth.ok) return withCors(auth.response());
    // No server-to-client stream (GET) and no sessions (DELETE): every call is one POST.
    if (request.method !== "POST") return withCors(new Response(null, { status: 405, headers: { Allow: "POST, OPTIONS" } }));
    let body: unknown;
    try {
      body = await request.json();
    } catch {
      return withCors(Response.json({ jsonrpc: "2.0", error: { code: -32700, message: "Parse error" }, id: null }, { status: 400 }));
    }
    // A tool that needs more than the token holds is an HTTP 403 insufficient_scope, so the client can step up.
    const needed = toolScopes(body);
    const granted = needed.length > 0 ? await mcp.authenticate(request.headers.get("authorization"), needed) : auth;
    if (!granted.ok) return withCors(granted.response());

    const server = notesServer(notes, granted.claims, granted.scopes);
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    await server.connect(transport);
    try {
      const response = await transport.handleRequest(request, {
        parsedBody: body,
        authInfo: {
          token: "",
          clientId: granted.claims.client_id ?? "",
          scopes: granted.scopes,
          expiresAt: granted.claims.exp,
          resource: new URL(options.resource),
          extra: { sub: granted.claims.sub, org: granted.claims.org, roles: granted.claims.roles },
        },
      });
      return withCors(response);
    } finally {
      await server.close();
    }
  };
}

/** The scopes the tools called in this JSON-RPC message (or batch) need. */
function toolScopes(body: unknown): string[] {
  const messages = Array.isArray(body) ? body : [body];
  const scopes = new Set<string>();
  for (const m of messages) {
    if (typeof m !== "object" || m === null) continue;
    const { method, params } = m as { method?: unknown; params?: { name?: unknown } };
    if (method !== "tools/call" || typeof params?.name !== "string") continue;
    const scope = TOOL_SCOPES[params.name];
    if (scope) scopes.add(scope);
  }
  return [...scopes];
}

/** One MCP server per request (stateless); the notes outlive it. */
function notesServer(notes: Map<string, string[]>, claims: AccessTokenClaims, scopes: string[]): Server {
  const server = new Server({ name: "gatehouse-example-notes", version: "1.0.0" }, { capabilities: { tools: {} } });
  const owner = claims.org ? `org:${claims.org}` : `user:${claims.sub}`;
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: TOOLS }));
  server.setRequestHandler(CallToolRequestSchema, (request): CallToolResult => {
    const list = notes.get(owner) ?? [];
    if (request.params.name === "notes_list") {
      return { content: [{ type: "text", text: JSON.stringify(list) }], structuredContent: { notes: list } };
    }
    if (request.params.name === "notes_add") {
      // Checked over HTTP already (403 insufficient_scope); a tool keeps its own check all the same.
      if (!scopes.includes("notes:write")) return failure("notes_add needs the notes:write scope.");
      if (claims.org && !claims.roles?.some((role) => role === "owner" || role === "admin")) {
        return failure("Only the organization's owners and admins may add notes.");
      }
      const text = request.params.arguments?.text;
      if (typeof text !== "string" || text.trim() === "" || text.length > MAX_NOTE_LENGTH) return failure(`text must be 1 to ${MAX_NOTE_LENGTH} characters.`);
      notes.set(owner, [...list, text.trim()]);
      return { content: [{ type: "text", text: `added (${list.length + 1} notes)` }], structuredContent: { count: list.length + 1 } };
    }
    return failure(`unknown tool ${request.params.name}`);
  });
  return server;
}

function failure(text: string): CallToolResult {
  return { content: [{ type: "text", text }], isError: true };
}

/** Browser-based MCP clients (MCP Inspector) call from another origin with a Bearer token, never cookies. */
const CORS: Record<string, string> = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Allow-Methods": "POST, OPTIONS",
  "Access-Control-Allow-Headers": "authorization, content-type, accept, mcp-protocol-version, mcp-session-id, last-event-id",
  "Access-Control-Expose-Headers": "www-authenticate, mcp-session-id",
  "Access-Control-Max-Age": "600",
};

function withCors(response: Response): Response {
  const headers = new Headers(response.headers);
  for (const [name, value] of Object.entries(CORS)) headers.set(name, value);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

/**
 * Listens on `port` (127.0.0.1); resolves once listening, with its endpoint and a `close`.
 *
 * @example
 * const mcp = await startExampleMcp({ port: 8789, authUrl: "http://localhost:8787", resource: "http://localhost:8789/mcp" });
 * await mcp.close();
 */
export function startExampleMcp(options: ExampleMcpOptions & { port: number }): Promise<{ url: string; close: () => Promise<void> }> {
  const handle = createMcpHandler(options);
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: handle, port: options.port, hostname: "127.0.0.1" }, () => {
      resolve({
        url: options.resource,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
    server.once("error", reject);
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.env.MCP_PORT ?? 8789);
  const mcp = await startExampleMcp({
    port,
    authUrl: process.env.AUTH_URL ?? "http://localhost:8787",
    resource: process.env.MCP_URL ?? `http://localhost:${port}/mcp`,
  });
  console.log(`example MCP server on ${mcp.url} (Streamable HTTP; tools notes_list, notes_add)`);
}
