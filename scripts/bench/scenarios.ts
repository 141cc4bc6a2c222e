/**
 * What the benchmark measures. Each scenario builds a task for a given
 * concurrency; anything it needs first (a signed-in session per refresh
 * chain) happens in `prepare`, before warm-up and before counting.
 */
import { verifyAccessToken } from "gatehouse/verify";
import { REFRESH_COOKIE, SESSION_COOKIE } from "../../src/lib/cookies.ts";
import { expectStatus, workerHeaders } from "./client.ts";
import { CookieJar } from "./cookies.ts";
import type { LoadShape, Task } from "./measure.ts";
import { signIn, type SignedIn } from "./signin.ts";

/** The command line's load: requests per scenario and concurrency, warm-up, sign-ins. */
export interface BenchLoad {
  requests: number;
  warmup: number;
  signIns: number;
  concurrency: number[];
}

/** The running stack and one signed-in browser. */
export interface BenchContext {
  authUrl: string;
  spaUrl: string;
  /** The example API's origin: an ALLOWED_AUDIENCES value. */
  apiUrl: string;
  session: SignedIn;
  /** An access token for `apiUrl`, minted by POST /auth/token. */
  accessToken: string;
}

export interface Scenario {
  name: string;
  /** The request, as the table's footnote and docs describe it. */
  what: string;
  /** Database round trips per request by design (the run reports the measured value). */
  expectedRoundTrips: number | "≤ 1 per 5 s";
  /** Requests and warm-up from the command line's load; default: as given. */
  shape?(load: BenchLoad): Omit<LoadShape, "concurrency">;
  prepare(ctx: BenchContext, concurrency: number): Promise<Task>;
  /** Per-leg latencies recorded since the last call (which forgets them): warm-up legs are taken and dropped. */
  takeLegs?(): Record<string, number[]>;
}

const tokenRequest = (ctx: BenchContext, cookie: string) =>
  fetch(`${ctx.authUrl}/auth/token`, {
    method: "POST",
    headers: workerHeaders({ origin: new URL(ctx.spaUrl).origin, "content-type": "application/json", cookie }),
    body: JSON.stringify({ audience: ctx.apiUrl }),
  });

/** GET a worker path with optional cookies, expecting 200. */
const getOk = (ctx: BenchContext, path: string, cookie?: string): Task => async () => {
  const res = await fetch(`${ctx.authUrl}${path}`, { headers: workerHeaders(cookie ? { cookie } : {}) });
  await expectStatus(res, 200, `GET ${path}`);
  await res.body?.cancel();
};

const health: Scenario = {
  name: "GET /health",
  what: "schema status, cached per isolate for 5 s",
  expectedRoundTrips: "≤ 1 per 5 s",
  prepare: async (ctx) => getOk(ctx, "/health"),
};

const sessionJwt: Scenario = {
  name: "GET /auth/session (JWT)",
  what: "session JWT verified at the edge + KV denylist read",
  expectedRoundTrips: 0,
  prepare: async (ctx) => getOk(ctx, "/auth/session", `${SESSION_COOKIE}=${ctx.session.sessionJwt}`),
};

const tokenFromJwt: Scenario = {
  name: "POST /auth/token (JWT)",
  what: "access token minted from the session JWT (ES256 sign)",
  expectedRoundTrips: 0,
  prepare: async (ctx) => async () => {
    const res = await tokenRequest(ctx, `${SESSION_COOKIE}=${ctx.session.sessionJwt}`);
    await expectStatus(res, 200, "POST /auth/token");
    await res.body?.cancel();
  },
};

/**
 * Only the refresh cookie: every request rotates the refresh token in one
 * round trip and must present the newest one, so each lane is one chain
 * (its own session) sending one request at a time.
 */
const tokenFromRefresh: Scenario = {
  name: "POST /auth/token (refresh)",
  what: "refresh token rotated in 1 round trip, new session JWT + access token",
  expectedRoundTrips: 1,
  prepare: async (ctx, concurrency) => {
    const chains: string[] = [];
    for (let lane = 0; lane < concurrency; lane++) chains.push((await signIn(ctx, `bench-chain-${Date.now()}-${lane}`)).refreshToken);
    return async ({ lane }) => {
      const res = await tokenRequest(ctx, `${REFRESH_COOKIE}=${chains[lane]}`);
      await expectStatus(res, 200, "POST /auth/token (refresh)");
      await res.body?.cancel();
      const jar = new CookieJar();
      jar.store(res.headers);
      const rotated = jar.get(REFRESH_COOKIE);
      if (rotated === undefined) throw new Error("POST /auth/token (refresh): the refresh token was not rotated");
      chains[lane] = rotated;
    };
  },
};

const jwks: Scenario = {
  name: "GET /.well-known/jwks.json",
  what: "public keys for backends",
  expectedRoundTrips: 0,
  prepare: async (ctx) => getOk(ctx, "/.well-known/jwks.json"),
};

const verify: Scenario = {
  name: "verifyAccessToken (Node)",
  what: "gatehouse/verify in this process; JWKS fetched once, then cached by jose",
  expectedRoundTrips: 0,
  // Sub-millisecond: ten times the requests so the percentiles mean something.
  shape: (load) => ({ requests: load.requests * 10, warmup: load.warmup * 10 }),
  prepare: async (ctx) => {
    const options = { issuer: new URL(ctx.authUrl).origin, audience: ctx.apiUrl, jwksUrl: `${ctx.authUrl}/.well-known/jwks.json` };
    return async () => {
      const result = await verifyAccessToken(ctx.accessToken, options);
      if (!result.ok) throw new Error(`verifyAccessToken: ${result.error}`);
    };
  },
};

function signInScenario(): Scenario {
  const empty = () => ({ start: [] as number[], provider: [] as number[], callback: [] as number[] });
  let legs = empty();
  let signIns = 0;
  return {
    name: "sign-in (start → provider → callback)",
    what: "whole flow; the callback claims the state (1 round trip) before the provider, then writes user, account and session in 1 batch",
    expectedRoundTrips: 1,
    // A sign-in is ~10 worker and provider requests: fewer runs, and a short warm-up.
    shape: (load) => ({ requests: load.signIns, warmup: Math.min(load.warmup, 5) }),
    prepare: async (ctx) => async () => {
      const { legsMs } = await signIn(ctx, `bench-${Date.now()}-${++signIns}`);
      legs.start.push(legsMs.start);
      legs.provider.push(legsMs.provider);
      legs.callback.push(legsMs.callback);
    },
    takeLegs: () => {
      const taken = legs;
      legs = empty();
      return taken;
    },
  };
}

/**
 * Every scenario, in the order they run.
 *
 * @example
 * for (const s of scenarios()) console.log(s.name, s.expectedRoundTrips);
 */
export function scenarios(): Scenario[] {
  return [health, sessionJwt, tokenFromJwt, tokenFromRefresh, jwks, verify, signInScenario()];
}
