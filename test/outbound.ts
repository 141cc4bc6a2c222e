/**
 * miniflare's `outboundService` for the test worker: requests to the real
 * hostnames of GitHub, Google, Facebook, Naver and Kakao, and to the control
 * host `fakes.test`, are answered by the Node-side fakes (test/fakes/);
 * everything else (neon-local, the local OpenID provider on 127.0.0.1)
 * goes out with Node's fetch. Production code keeps the real URLs.
 */
import { CLIENT_METADATA_LOOPBACK_HOST } from "./fakes/client-metadata.ts";
import { FAKE_HOSTS, handleFakeRequest } from "./fakes/index.ts";

/**
 * @example
 * miniflare: { outboundService }
 */
export async function outboundService(request: Request): Promise<Response> {
  const url = new URL(request.url);
  if (FAKE_HOSTS.has(url.hostname) || url.host === CLIENT_METADATA_LOOPBACK_HOST) return handleFakeRequest(request);
  if (url.hostname !== "localhost" && url.hostname !== "127.0.0.1" && url.hostname !== "[::1]") {
    // A test must never reach the internet; a loud 599 beats a flaky real call.
    return new Response(`test/outbound.ts: no fake for ${url.hostname}`, { status: 599 });
  }
  // miniflare hands over its own undici Request, which Node's fetch does not recognise: copy it.
  return fetch(request.url, {
    method: request.method,
    headers: [...request.headers],
    body: request.method === "GET" || request.method === "HEAD" ? undefined : await request.arrayBuffer(),
    redirect: "manual",
  });
}
