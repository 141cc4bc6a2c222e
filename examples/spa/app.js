// The example SPA: gets an access token from gatehouse with the session
// cookies (same-site, credentials: "include"), calls the example API with it,
// refreshes transparently when the token expires or the API says 401, and
// never runs two refreshes at once (one in-flight promise shared by all callers).
// Who is signed in comes from gatehouse's GET /auth/session (the name, not the
// user id the API answers with); only the actions that make sense are shown.

const config = await (await fetch("/config.json")).json();
const $ = (id) => document.getElementById(id);

/** @type {{ value: string, expiresAt: number } | null} */
let accessToken = null;
/** @type {Promise<string | null> | null} */
let inFlight = null;

/** A new access token, or null when gatehouse says we are signed out (401). De-duplicated. */
function refreshToken() {
  inFlight ??= (async () => {
    const res = await fetch(`${config.authUrl}/auth/token`, {
      method: "POST",
      credentials: "include",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ audience: config.apiUrl }),
    });
    if (res.status === 401) {
      accessToken = null;
      return null;
    }
    if (!res.ok) throw new Error(`token endpoint answered HTTP ${res.status}`);
    const body = await res.json();
    // Refresh a little early so a token never expires on its way to the API.
    accessToken = { value: body.access_token, expiresAt: Date.now() + (body.expires_in - 30) * 1000 };
    return accessToken.value;
  })().finally(() => {
    inFlight = null;
  });
  return inFlight;
}

/** The current token if still fresh, else a refreshed one (or null: signed out). */
async function currentToken() {
  if (accessToken && Date.now() < accessToken.expiresAt) return accessToken.value;
  return refreshToken();
}

/** The signed-in user's display name, or null when signed out (401). */
async function whoAmI() {
  const res = await fetch(`${config.authUrl}/auth/session`, { credentials: "include" });
  if (res.status === 401) return null;
  if (!res.ok) throw new Error(`session endpoint answered HTTP ${res.status}`);
  const { user } = await res.json();
  return user.name ?? user.email ?? user.id;
}

function show(state, text) {
  $("status").dataset.state = state;
  $("status").textContent = text;
  if (state === "signed-in" || state === "signed-out") document.body.dataset.session = state;
  // An error before the state is known: offer every action rather than none.
  else if (!document.body.dataset.session) document.body.dataset.session = "unknown";
}

function signedOut(message = "Not signed in: use Sign in first.") {
  accessToken = null;
  show("signed-out", "signed out");
  $("result").textContent = message;
}

async function callApi() {
  let token = await currentToken();
  if (!token) return signedOut();
  let res = await fetch(`${config.apiUrl}/hello`, { headers: { authorization: `Bearer ${token}` } });
  if (res.status === 401) {
    // Expired or rotated away: one transparent refresh, then one retry.
    token = await refreshToken();
    if (!token) return signedOut();
    res = await fetch(`${config.apiUrl}/hello`, { headers: { authorization: `Bearer ${token}` } });
  }
  const body = await res.json();
  $("result").textContent = JSON.stringify(body, null, 2);
  if (!res.ok) return show("error", `API answered HTTP ${res.status}`);
  const who = await whoAmI();
  if (who === null) return signedOut();
  show("signed-in", `signed in as ${who}`);
}

async function signOut() {
  const res = await fetch(`${config.authUrl}/auth/signout`, { method: "POST", credentials: "include" });
  // A failed sign-out is not a sign-out: say so, keep the state.
  if (!res.ok) return show("error", `sign-out failed (HTTP ${res.status}); try again`);
  signedOut("Signed out.");
}

function run(action) {
  action().catch((error) => show("error", `error: ${error.message}`));
}

$("signin").href = `${config.authUrl}/auth/signin?redirect_to=${encodeURIComponent(`${location.origin}/`)}`;
$("account").href = `${config.authUrl}/account`;
$("call").addEventListener("click", () => run(callApi));
$("signout").addEventListener("click", () => run(signOut));
run(callApi);
