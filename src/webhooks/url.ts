/**
 * Which URLs an endpoint may have: https, no credentials, no fragment, at
 * most 2048 characters; `http://localhost` (and 127.0.0.1, [::1]) only with
 * GATEHOUSE_DEVELOPMENT=true. Deliveries never follow redirects, so the URL
 * checked here is the only one ever called.
 */
import { isLocalHost } from "../config";

const MAX_URL_LENGTH = 2048;

/**
 * The normalized URL, or why it is refused.
 *
 * @example
 * checkEndpointUrl("https://hooks.example.com/gatehouse", false); // { ok: true, url: "https://hooks.example.com/gatehouse" }
 * checkEndpointUrl("http://hooks.example.com/", false); // { ok: false, problem: "must be https" }
 */
export function checkEndpointUrl(raw: string, allowLocalHttp: boolean): { ok: true; url: string } | { ok: false; problem: string } {
  if (raw.length > MAX_URL_LENGTH) return { ok: false, problem: "too long" };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, problem: "not a URL" };
  }
  if (url.username !== "" || url.password !== "") return { ok: false, problem: "must not contain credentials" };
  if (url.hash !== "" || raw.includes("#")) return { ok: false, problem: "must not contain a fragment" };
  if (url.protocol === "https:") return { ok: true, url: url.toString() };
  if (url.protocol === "http:" && allowLocalHttp && isLocalHost(url.hostname)) return { ok: true, url: url.toString() };
  return { ok: false, problem: "must be https" };
}
