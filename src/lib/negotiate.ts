/**
 * Whether a request comes from a browser page (render HTML) or an API
 * caller (render JSON). API paths always get JSON, whatever they accept.
 */
const API_PATHS = ["/api", "/auth/token", "/auth/session", "/auth/sessions", "/auth/events", "/health", "/.well-known"];

/** @example wantsHtml(new Request("https://a.example/auth/signin", { headers: { accept: "text/html" } })) // true */
export function wantsHtml(request: Request): boolean {
  const path = new URL(request.url).pathname;
  if (API_PATHS.some((p) => path === p || path.startsWith(`${p}/`))) return false;
  return (request.headers.get("accept") ?? "").includes("text/html");
}
