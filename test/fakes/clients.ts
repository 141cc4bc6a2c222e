/**
 * The OAuth clients the fakes accept: the credentials from test/bindings.ts
 * (one source of truth), redirect URIs under the test AUTH_URL.
 */
import { TEST_AUTH_URL, testBindings } from "../bindings.ts";
import type { FakeClient } from "./flow.ts";

const b = testBindings({ neonFetchEndpoint: "", databaseUrl: "" });
const callback = (id: string) => [`${TEST_AUTH_URL}/auth/callback/${id}`];

function client(prefix: string, id: string): FakeClient {
  const clientId = b[`${prefix}_CLIENT_ID`];
  const clientSecret = b[`${prefix}_CLIENT_SECRET`];
  if (!clientId || !clientSecret) throw new Error(`test/bindings.ts has no ${prefix} credentials`);
  return { clientId, clientSecret, redirectUris: callback(id) };
}

export const CLIENTS = {
  github: client("GITHUB", "github"),
  google: client("GOOGLE", "google"),
  facebook: client("FACEBOOK", "facebook"),
  naver: client("NAVER", "naver"),
  kakao: client("KAKAO", "kakao"),
};

/** Every `oidc/<tenant>` issuer accepts this client, with any callback under AUTH_URL. */
export const TENANT_CLIENT: FakeClient = {
  clientId: "test-oidc-client",
  clientSecret: "test-oidc-secret-0123456789",
  redirectUris: [`${TEST_AUTH_URL}/auth/callback/`],
};
