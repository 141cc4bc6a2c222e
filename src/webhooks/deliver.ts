/**
 * One delivery attempt: the signed POST of a payload to an endpoint, with a
 * short timeout and no redirects (a 3xx is a failure: the registered URL is
 * the only one ever called). The answer's body is never read or kept; the
 * outcome is the status or a short error code.
 */
import { signatureHeaders } from "./sign";

/** How long an endpoint has to answer. */
export const DELIVERY_TIMEOUT_MS = 10_000;

/** How an attempt ended: `ok` for a 2xx. */
export type AttemptResult = { ok: true; status: number } | { ok: false; status: number | null; errorCode: string };

/**
 * Signs and POSTs `body` (the payload JSON, sent byte for byte as signed).
 *
 * @example
 * const result = await postWebhook({ url, secrets, id: "msg_…", body: JSON.stringify(payload) });
 */
export async function postWebhook(input: {
  url: string;
  secrets: readonly string[];
  id: string;
  body: string;
  timestamp?: number;
  fetcher?: typeof fetch;
}): Promise<AttemptResult> {
  const timestamp = input.timestamp ?? Math.floor(Date.now() / 1000);
  const headers = {
    "content-type": "application/json",
    "user-agent": "gatehouse-webhooks",
    ...(await signatureHeaders(input.secrets, input.id, timestamp, input.body)),
  };
  let response: Response;
  try {
    response = await (input.fetcher ?? fetch)(input.url, {
      method: "POST",
      headers,
      body: input.body,
      redirect: "manual",
      signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
    });
  } catch (error) {
    const name = error instanceof Error ? error.name : "";
    return { ok: false, status: null, errorCode: name === "TimeoutError" || name === "AbortError" ? "timeout" : "network" };
  }
  // The body is not needed; cancel it so the connection is released.
  await response.body?.cancel().catch(() => undefined);
  if (response.status >= 200 && response.status < 300) return { ok: true, status: response.status };
  if (response.status >= 300 && response.status < 400) return { ok: false, status: response.status, errorCode: "redirect" };
  return { ok: false, status: response.status, errorCode: `http_${response.status}` };
}
