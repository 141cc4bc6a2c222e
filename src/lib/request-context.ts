/**
 * Who and where a request came from, read once per request: what audit
 * events record (issue 13) and what every log line carries. Cloudflare
 * fills `cf-connecting-ip`, `cf-ray` and `request.cf`; locally they are
 * absent and the fields are null (the request id is then generated).
 */

export interface RequestContext {
  /** `cf-ray` when present (Cloudflare's own id, searchable in its dashboard), else a random id. */
  requestId: string;
  /** The client address (`cf-connecting-ip`); null when unknown. */
  ip: string | null;
  /** The User-Agent, at most 512 characters; null when absent. */
  userAgent: string | null;
  /** ISO 3166-1 alpha-2 country from `request.cf.country` (`T1` is Tor); null when unknown. */
  country: string | null;
  /** Autonomous system number from `request.cf.asn`; null when unknown. */
  asn: number | null;
}

const MAX_USER_AGENT = 512;

/**
 * Reads the request's context. Pure: the same request gives the same
 * fields (bar a generated id).
 *
 * @example
 * const ctx = requestContext(c.req.raw); // { requestId: "8f…-ICN", ip: "203.0.113.7", country: "KR", asn: 4766, … }
 */
export function requestContext(request: Request): RequestContext {
  const cf = (request as { cf?: { country?: unknown; asn?: unknown } }).cf;
  const ray = request.headers.get("cf-ray");
  const ua = request.headers.get("user-agent");
  const ip = request.headers.get("cf-connecting-ip");
  return {
    requestId: ray && /^[\w-]{1,64}$/.test(ray) ? ray : crypto.randomUUID(),
    ip: ip && ip.length <= 64 ? ip : null,
    userAgent: ua ? ua.slice(0, MAX_USER_AGENT) : null,
    country: typeof cf?.country === "string" && /^[A-Z0-9]{2}$/.test(cf.country) ? cf.country : null,
    asn: typeof cf?.asn === "number" && Number.isInteger(cf.asn) && cf.asn >= 0 ? cf.asn : null,
  };
}
