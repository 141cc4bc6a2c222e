/**
 * The language of a request: `?lang=` (remembered in a cookie), else the
 * `__Host-gh_lang` cookie, else the best `Accept-Language` match, else
 * English. Adding a language is one file plus one line in {@link MESSAGES}.
 */
import { en, type Messages } from "./en";
import { ja } from "./ja";
import { ko } from "./ko";

export type { Messages };

export const MESSAGES = { en, ko, ja } as const satisfies Record<string, Messages>;
export type Language = keyof typeof MESSAGES;
export const LANGUAGE_COOKIE = "__Host-gh_lang";

/** @example isLanguage("ko") // true */
export function isLanguage(value: string | null | undefined): value is Language {
  return typeof value === "string" && Object.hasOwn(MESSAGES, value);
}

/**
 * The best supported language of an `Accept-Language` header (q-values
 * honoured, `ko-KR` matches `ko`), or `null`.
 *
 * @example fromAcceptLanguage("fr, ja;q=0.8, ko;q=0.9") // "ko"
 */
export function fromAcceptLanguage(header: string | null | undefined): Language | null {
  if (!header) return null;
  let best: { lang: Language; q: number } | null = null;
  for (const part of header.slice(0, 512).split(",")) {
    const [range = "", ...params] = part.trim().split(";");
    const primary = range.trim().toLowerCase().split("-")[0] ?? "";
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    if (!isLanguage(primary) || !Number.isFinite(q) || q <= 0) continue;
    if (best === null || q > best.q) best = { lang: primary, q };
  }
  return best?.lang ?? null;
}

/**
 * @example negotiateLanguage({ query: null, cookie: "ja", acceptLanguage: "ko" }) // "ja"
 */
export function negotiateLanguage(input: { query: string | null; cookie: string | null; acceptLanguage: string | null }): Language {
  if (isLanguage(input.query)) return input.query;
  if (isLanguage(input.cookie)) return input.cookie;
  return fromAcceptLanguage(input.acceptLanguage) ?? "en";
}

/** The language of a request, from its URL, cookie and headers. */
export function languageOf(request: Request): Language {
  const cookie = /(?:^|;\s*)__Host-gh_lang=([a-z]{2})(?:;|$)/.exec(request.headers.get("cookie") ?? "")?.[1] ?? null;
  return negotiateLanguage({ query: langQuery(request), cookie, acceptLanguage: request.headers.get("accept-language") });
}

/**
 * The request's `?lang=` value, or `null`. Runs on every request, so the URL
 * is parsed only when it could carry the parameter.
 *
 * @example langQuery(new Request("https://auth.example.com/?lang=ko")) // "ko"
 */
export function langQuery(request: Request): string | null {
  return request.url.includes("lang=") ? new URL(request.url).searchParams.get("lang") : null;
}
