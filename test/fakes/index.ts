/**
 * Entry of the Node-side provider fakes: routes a request for a real
 * provider hostname to its fake, and serves the control plane at
 * `http://fakes.test` (see test/fakes/control.ts for the client):
 *
 *   POST   /__control/<provider>[?next=1]  body FakeScenario  → { scenario: id }
 *   POST   /__control/<provider>/faults    body FakeEndpointFaults (replaces)
 *   DELETE /__control/<provider>/faults
 *   GET    /__calls[?provider=&endpoint=&scenario=&since=]   → FakeCall[]
 *   POST   /__reset
 *   GET    /__hooks, POST /__hooks/fail (the webhook receiver: webhook-receiver.ts)
 *
 * `<provider>` is github | google | facebook | naver | kakao | oidc/<tenant>.
 */
import { CLIENT_METADATA_HOSTS, clientMetadataControl, clientMetadataFake, resetClientMetadata } from "./client-metadata.ts";
import { facebookFake } from "./facebook.ts";
import { githubFake } from "./github.ts";
import { googleFake } from "./google.ts";
import { kakaoOidcFake, kakaoUserMe } from "./kakao.ts";
import { naverFake } from "./naver.ts";
import { resendControl, resendFake } from "./resend.ts";
import { handleTenant, tenantFake } from "./oidc-tenants.ts";
import { WEBHOOK_RECEIVER_HOST, webhookReceiverControl, webhookReceiverFake } from "./webhook-receiver.ts";
import { json } from "./flow.ts";
import { state } from "./state.ts";
import type { FakeEndpointFaults, FakeScenario } from "./types.ts";

/** Every hostname a fake answers for. */
export const FAKE_HOSTS = new Set([
  "github.com",
  "api.github.com",
  "accounts.google.com",
  "oauth2.googleapis.com",
  "openidconnect.googleapis.com",
  "www.googleapis.com",
  "www.facebook.com",
  "graph.facebook.com",
  "nid.naver.com",
  "openapi.naver.com",
  "kauth.kakao.com",
  "kapi.kakao.com",
  "api.resend.com",
  "fakes.test",
  WEBHOOK_RECEIVER_HOST,
  ...CLIENT_METADATA_HOSTS,
]);

const PROVIDERS = /^(github|google|facebook|naver|kakao|oidc\/[a-z0-9-]{1,40})$/;

/**
 * The fake's answer for a request to one of {@link FAKE_HOSTS}; 404 for an
 * unknown path there (a real provider would not answer it either).
 *
 * @example
 * if (FAKE_HOSTS.has(new URL(request.url).hostname)) return handleFakeRequest(request);
 */
export async function handleFakeRequest(request: Request): Promise<Response> {
  const url = new URL(request.url);
  const response =
    url.hostname === "fakes.test"
      ? ((await clientMetadataControl(request, url)) ?? (await resendControl(request, url)) ?? (await webhookReceiverControl(request, url)) ?? (await control(request, url)) ?? (await handleTenant(request, url)))
      : ((await clientMetadataFake(request, url)) ??
        (await githubFake(request, url)) ??
        (await googleFake.handle(request, url)) ??
        (await kakaoOidcFake.handle(request, url)) ??
        (await kakaoUserMe(request, url)) ??
        (await facebookFake(request, url)) ??
        (await naverFake(request, url)) ??
        (await resendFake(request, url)) ??
        (await webhookReceiverFake(request, url)));
  return response ?? json({ error: "not_found", fake: true, path: url.pathname }, 404);
}

async function control(request: Request, url: URL): Promise<Response | undefined> {
  const path = url.pathname;
  if (path === "/__reset" && request.method === "POST") {
    state.reset();
    resetClientMetadata();
    return json({ ok: true });
  }
  if (path === "/__calls" && request.method === "GET") {
    const q = url.searchParams;
    const since = Number(q.get("since") ?? 0);
    return json(
      state.calls.filter(
        (c) =>
          c.seq > since &&
          (!q.has("provider") || c.provider === q.get("provider")) &&
          (!q.has("endpoint") || c.endpoint === q.get("endpoint")) &&
          (!q.has("scenario") || c.scenario === q.get("scenario")),
      ),
    );
  }
  const match = /^\/__control\/(.+?)(\/faults)?$/.exec(path);
  if (!match) return undefined;
  const provider = match[1] ?? "";
  if (!PROVIDERS.test(provider)) return json({ error: "unknown provider", provider }, 400);
  if (provider.startsWith("oidc/")) tenantFake(provider.slice(5));
  if (match[2]) {
    if (request.method === "DELETE") state.endpointFaults.delete(provider);
    else state.endpointFaults.set(provider, (await request.json()) as FakeEndpointFaults);
    return json({ ok: true });
  }
  if (request.method !== "POST") return json({ error: "method" }, 405);
  const scenario = (await request.json()) as FakeScenario;
  return json({ scenario: state.addScenario(provider, scenario, url.searchParams.get("next") === "1") });
}
