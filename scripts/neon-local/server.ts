import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { BadRequestError } from "./errors.js";
import { FaultRegistry, type FaultDecision } from "./faults.js";
import { isPostgresError, postgresErrorBody, syntheticPostgresError } from "./postgres-error.js";
import { parseSqlRequest, resultBody, scopeOf, type SqlRequest } from "./protocol.js";
import { StatsCounter } from "./stats.js";
import type { Backend, Faults } from "./types.js";

/** Logging hook; receives only method, path, status, SQLSTATE and timing — never SQL, params or rows. */
export type RequestLogger = (line: string) => void;

/** Neon's limit is far larger than anything gatehouse sends; this only guards against runaway bodies. */
/**
 * Neon's proxy refuses SQL-over-HTTP requests and responses over 10 MiB
 * (`sql_over_http_max_request_size_bytes` / `…max_response_size_bytes`
 * defaults). neon-local enforces the same limits so that a batch too large
 * for Neon fails here first.
 */
export const NEON_MAX_REQUEST_BYTES = 10 * 1024 * 1024;
export const NEON_MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

/**
 * Builds the HTTP server. Routes:
 * POST /sql (Neon protocol), GET /health, GET /__stats[?scope=user],
 * POST /__reset[?scope=user], POST /__faults, DELETE /__faults.
 */
export function createNeonLocalServer(
  backend: Backend,
  stats: StatsCounter,
  faults: FaultRegistry,
  log?: RequestLogger,
): Server {
  return createServer((req, res) => {
    const started = Date.now();
    res.on("finish", () => log?.(`${req.method} ${pathOf(req)} ${res.statusCode} ${Date.now() - started}ms`));
    route(req, res, backend, stats, faults).catch(() => {
      // Should not happen (route catches), but never leave a request hanging.
      if (!res.headersSent) sendText(res, 500, "neon-local: internal error");
      else res.destroy();
    });
  });
}

async function route(
  req: IncomingMessage,
  res: ServerResponse,
  backend: Backend,
  stats: StatsCounter,
  faults: FaultRegistry,
): Promise<void> {
  const path = pathOf(req);
  const query = new URL(req.url ?? "/", "http://neon-local").searchParams;
  if (req.method === "POST" && path === "/sql") return handleSql(req, res, backend, stats, faults);
  if (req.method === "GET" && path === "/health") return sendJson(res, 200, { ok: true, backend: backend.kind });
  if (req.method === "GET" && path === "/__stats") return sendJson(res, 200, stats.snapshot(query.get("scope") ?? undefined));
  if (req.method === "POST" && path === "/__reset") {
    const scope = query.get("scope");
    // A scoped reset only touches that scope's counters and faults, leaving other tests alone.
    if (scope !== null) {
      stats.reset(scope);
      faults.clear(scope);
      return sendJson(res, 200, { ok: true });
    }
    stats.reset();
    faults.clear();
    return sendJson(res, 200, { ok: true });
  }
  if (req.method === "DELETE" && path === "/__faults") {
    faults.clear(query.get("scope") ?? undefined);
    return sendJson(res, 200, { ok: true });
  }
  if (req.method === "POST" && path === "/__faults") {
    try {
      faults.set(JSON.parse(await readBody(req)) as Faults);
      return sendJson(res, 200, { ok: true });
    } catch (err) {
      return sendJson(res, 400, { message: err instanceof Error ? err.message : "invalid faults" });
    }
  }
  sendText(res, 404, "not found");
}

async function handleSql(
  req: IncomingMessage,
  res: ServerResponse,
  backend: Backend,
  stats: StatsCounter,
  faults: FaultRegistry,
): Promise<void> {
  const scope = scopeOf(req.headers);
  let request: SqlRequest;
  try {
    const body = await readBody(req);
    stats.requestBytes(scope, Buffer.byteLength(body));
    request = parseSqlRequest(req.headers, body);
  } catch (err) {
    stats.request(scope, 0, false);
    stats.error(scope);
    if (err instanceof PayloadTooLargeError) {
      stats.requestBytes(scope, err.size);
      return sendJson(res, 413, { message: `request is too large (max is ${NEON_MAX_REQUEST_BYTES} bytes)`, code: "" });
    }
    if (err instanceof BadRequestError) return sendJson(res, 400, syntheticPostgresError(err.message, "08P01"));
    return sendText(res, 400, "neon-local: could not read request");
  }

  const queries = request.kind === "batch" ? request.queries : [request.query];
  stats.request(scope, queries.length, request.kind === "batch");
  const latencyMs = faults.latencyFor(scope);
  if (latencyMs > 0) await sleep(latencyMs);

  const fault = faults.check(scope, queries.map((q) => q.query));
  if (fault) {
    stats.error(scope);
    return injectFault(res, fault);
  }

  try {
    const body =
      request.kind === "batch"
        ? { results: (await backend.batch(request.queries, request.options)).map((r) => resultBody(r, request.arrayMode)) }
        : resultBody(await backend.query(request.query), request.arrayMode);
    const text = JSON.stringify(body);
    if (Buffer.byteLength(text) > NEON_MAX_RESPONSE_BYTES) {
      // Neon answers 507 Insufficient Storage (the transaction has committed by then, as on Neon).
      stats.error(scope);
      return sendJson(res, 507, { message: `response is too large (max is ${NEON_MAX_RESPONSE_BYTES} bytes)`, code: "" });
    }
    return sendJson(res, 200, body);
  } catch (err) {
    stats.error(scope);
    if (isPostgresError(err)) return sendJson(res, 400, postgresErrorBody(err));
    // Not a Postgres error (backend down, bug): Neon answers such failures with a non-400 status.
    return sendText(res, 500, `neon-local: backend failure: ${err instanceof Error ? err.name : "unknown"}`);
  }
}

function injectFault(res: ServerResponse, fault: FaultDecision): void {
  if (fault.mode === "drop") {
    // No response at all: the driver's fetch() must reject, not hang.
    res.socket?.destroy();
    return;
  }
  if (fault.mode === "postgres") {
    const message =
      fault.code === "57P01" ? "terminating connection due to administrator command" : "neon-local: injected fault";
    return sendJson(res, 400, syntheticPostgresError(message, fault.code, fault.code === "57P01" ? "FATAL" : "ERROR"));
  }
  sendText(res, 500, "neon-local: injected fault");
}

/** A request body over Neon's limit; its size is still counted. */
class PayloadTooLargeError extends Error {
  constructor(readonly size: number) {
    super("request body too large");
  }
}

/** Reads the body; past Neon's limit it keeps draining (so the 413 can be sent) but stops keeping it. */
function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= NEON_MAX_REQUEST_BYTES) chunks.push(chunk);
    });
    req.on("end", () => {
      if (size > NEON_MAX_REQUEST_BYTES) reject(new PayloadTooLargeError(size));
      else resolve(Buffer.concat(chunks).toString("utf8"));
    });
    req.on("error", reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function sendText(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

function pathOf(req: IncomingMessage): string {
  return (req.url ?? "/").split("?")[0] ?? "/";
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
