/**
 * The page script of passkeys (docs/passkeys.md), bundled with
 * `@simplewebauthn/browser` into ONE file by `npm run assets`
 * (scripts/build-passkey-asset.ts → src/pages/passkey-script.generated.ts)
 * and served by the worker at `/assets/passkey.<hash>.js`, the only script
 * the CSP of these pages allows. It reveals the passkey controls (hidden
 * without JavaScript), runs the ceremonies against `/auth/passkey/*`, and
 * starts the browser's passkey autofill on the sign-in page where supported.
 */
import { browserSupportsWebAuthn, browserSupportsWebAuthnAutofill, startAuthentication, startRegistration } from "@simplewebauthn/browser";

type Json = Record<string, unknown>;

async function post(path: string, body: Json): Promise<Json> {
  const res = await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify(body),
  });
  const json = (await res.json().catch(() => ({}))) as Json;
  if (!res.ok) throw new Error(typeof json.message === "string" ? json.message : `HTTP ${res.status}`);
  return json;
}

function say(root: HTMLElement, text: string): void {
  const out = root.querySelector<HTMLElement>("[data-passkey-status]");
  if (out) out.textContent = text;
}

function field(root: HTMLElement, name: string): string | undefined {
  const input = root.querySelector<HTMLInputElement>(`input[name="${name}"]`);
  const value = input?.value.trim();
  return value ? value : undefined;
}

function go(json: Json): void {
  if (typeof json.redirect === "string") window.location.assign(json.redirect);
}

/** A ceremony the user cancelled (or that another one replaced) says nothing. */
function report(root: HTMLElement, error: unknown): void {
  const name = (error as { name?: unknown } | null)?.name;
  if (name === "AbortError" || name === "NotAllowedError") return;
  say(root, error instanceof Error ? error.message : String(error));
}

async function signIn(root: HTMLElement, autofill: boolean): Promise<void> {
  const { options } = await post("/auth/passkey/signin/options", { redirect_to: root.dataset.redirectTo });
  const response = await startAuthentication({ optionsJSON: options as never, useBrowserAutofill: autofill });
  say(root, root.dataset.working ?? "");
  go(await post("/auth/passkey/signin", { response }));
}

async function signUp(root: HTMLElement): Promise<void> {
  const { options } = await post("/auth/passkey/signup/options", { redirect_to: root.dataset.redirectTo, name: field(root, "display_name") });
  const response = await startRegistration({ optionsJSON: options as never });
  say(root, root.dataset.working ?? "");
  go(await post("/auth/passkey/signup", { response }));
}

async function register(root: HTMLElement): Promise<void> {
  const { options } = await post("/auth/passkey/register/options", {});
  const response = await startRegistration({ optionsJSON: options as never });
  say(root, root.dataset.working ?? "");
  go(await post("/auth/passkey/register", { response, name: field(root, "passkey_name") }));
}

function start(): void {
  if (!browserSupportsWebAuthn()) return;
  for (const root of document.querySelectorAll<HTMLElement>("[data-passkey-root]")) {
    root.hidden = false;
    for (const button of root.querySelectorAll<HTMLButtonElement>("button[data-passkey]")) {
      button.disabled = false;
      button.addEventListener("click", (event) => {
        event.preventDefault();
        const action = button.dataset.passkey;
        say(root, "");
        const run = action === "signin" ? signIn(root, false) : action === "signup" ? signUp(root) : register(root);
        run.catch((error: unknown) => report(root, error));
      });
    }
    if (root.dataset.autofill === "true") {
      browserSupportsWebAuthnAutofill()
        .then((supported) => (supported ? signIn(root, true) : undefined))
        .catch((error: unknown) => report(root, error));
    }
  }
}

start();
