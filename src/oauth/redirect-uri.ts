/**
 * Redirect URI matching (OAuth 2.1 §2.3.1, RFC 8252 §7.3): exact string
 * comparison with a registered URI, no normalization at all, except that a
 * native client's loopback URI (`http://127.0.0.1/…` or `http://[::1]/…`)
 * matches with any port, because the app picks a free port at run time.
 */
import { isLocalHost } from "../lib/env-value";

export type ApplicationType = "web" | "native";

const LOOPBACK = /^http:\/\/(127\.0\.0\.1|\[::1\])(?::(\d{1,5}))?(\/[^#]*)?$/;

/**
 * The registered form of a loopback redirect URI (the port removed), or
 * `null` when `uri` is not a loopback URI. Works on the raw string: nothing
 * is decoded or normalized, so `/cb` and `/CB/` stay different.
 *
 * @example
 * loopbackKey("http://127.0.0.1:51004/cb"); // "http://127.0.0.1/cb"
 * loopbackKey("http://localhost:51004/cb"); // null
 */
export function loopbackKey(uri: string): string | null {
  const m = LOOPBACK.exec(uri);
  if (!m) return null;
  const port = m[2];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return null;
  return `http://${m[1]}${m[3] ?? ""}`;
}

/**
 * Whether `presented` may be used with a client registered with `registered`.
 *
 * @example
 * redirectUriMatches(["https://app.example.com/cb"], "web", "https://app.example.com/cb");  // true
 * redirectUriMatches(["https://app.example.com/cb"], "web", "https://app.example.com/cb/"); // false
 * redirectUriMatches(["http://127.0.0.1/cb"], "native", "http://127.0.0.1:8123/cb");        // true
 */
export function redirectUriMatches(registered: readonly string[], type: ApplicationType, presented: string): boolean {
  if (registered.includes(presented)) return true;
  if (type !== "native") return false;
  const key = loopbackKey(presented);
  return key !== null && registered.includes(key);
}

/**
 * Checks one redirect URI for a registration: absolute, no fragment, no
 * credentials, https — or, for web clients, http on a local host (development);
 * for native clients, a loopback URI without a port (any port then matches)
 * or a claimed https URL. Returns a reason or `null`.
 *
 * @example
 * registrationProblem("http://evil.example/cb", "web"); // "https is required (http only on localhost)"
 */
export function registrationProblem(uri: string, type: ApplicationType): string | null {
  if (uri.length > 512 || /[\s\\\x00-\x1f\x7f-\uffff]/.test(uri)) return "not a plain URL";
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return "not an absolute URL";
  }
  if (url.hash !== "" || uri.includes("#")) return "must not have a fragment";
  if (url.username !== "" || url.password !== "") return "must not contain credentials";
  if (type === "native" && url.protocol === "http:") {
    const key = loopbackKey(uri);
    if (key === null) return "native http redirect URIs must be loopback IP literals (127.0.0.1 or [::1])";
    if (key !== uri) return "register loopback URIs without a port; any port then matches";
    return null;
  }
  if (url.protocol === "https:") return null;
  if (url.protocol === "http:" && type === "web" && isLocalHost(url.hostname)) return null;
  return "https is required (http only on localhost)";
}
