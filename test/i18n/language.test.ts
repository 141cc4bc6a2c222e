/**
 * Pages in the user's language: Accept-Language negotiation, the `?lang=`
 * override remembered in `__Host-gh_lang`, error pages and JSON errors whose
 * codes stay untranslated, and the sign-in email in the asking page's language.
 */
import { describe, expect, it } from "vitest";
import { fromAcceptLanguage, MESSAGES, negotiateLanguage } from "../../src/i18n";
import { call } from "../helpers/app";
import { mailTo, postEmail, freshAddress } from "../email/helpers";
import { signinEnv } from "../signin/helpers";

const page = async (path: string, headers: Record<string, string> = {}) => {
  const res = await call(path, { headers: { accept: "text/html", ...headers } });
  return { res, html: await res.text() };
};

describe("negotiation", () => {
  it("picks the best supported Accept-Language, honouring q-values and regions", () => {
    expect(fromAcceptLanguage("ko-KR,ko;q=0.9,en-US;q=0.8")).toBe("ko");
    expect(fromAcceptLanguage("fr, ja;q=0.8, ko;q=0.9")).toBe("ko");
    expect(fromAcceptLanguage("fr-CA, de")).toBeNull();
    expect(fromAcceptLanguage("ja;q=0, en;q=0.1")).toBe("en");
    expect(fromAcceptLanguage("*")).toBeNull();
    expect(fromAcceptLanguage("")).toBeNull();
  });

  it("an explicit choice wins: ?lang= over the cookie over Accept-Language; unknown values are ignored", () => {
    expect(negotiateLanguage({ query: "ja", cookie: "ko", acceptLanguage: "en" })).toBe("ja");
    expect(negotiateLanguage({ query: null, cookie: "ko", acceptLanguage: "ja" })).toBe("ko");
    expect(negotiateLanguage({ query: "xx", cookie: "zz", acceptLanguage: "ja" })).toBe("ja");
    expect(negotiateLanguage({ query: "__proto__", cookie: "constructor", acceptLanguage: null })).toBe("en");
  });

  it("every language fills every error text with something of its own", () => {
    for (const [lang, t] of Object.entries(MESSAGES)) {
      for (const [code, text] of Object.entries(t.errors)) {
        expect(text.title.length, `${lang} ${code}`).toBeGreaterThan(0);
        if (lang !== "en") expect(text.explain, `${lang} ${code}`).not.toBe(MESSAGES.en.errors[code as keyof typeof t.errors].explain);
      }
    }
  });
});

describe("pages", () => {
  it("the sign-in page in Korean and Japanese from Accept-Language; English otherwise", async () => {
    const ko = await page("/auth/signin", { "accept-language": "ko-KR,ko;q=0.9" });
    expect(ko.html).toContain('<html lang="ko">');
    expect(ko.html).toContain("GitHub(으)로 계속하기");
    expect(ko.res.headers.getSetCookie().filter((c) => c.startsWith("__Host-gh_lang"))).toEqual([]);
    const ja = await page("/auth/signin", { "accept-language": "ja" });
    expect(ja.html).toContain('<html lang="ja">');
    expect(ja.html).toContain("GitHubで続行");
    const fr = await page("/auth/signin", { "accept-language": "fr" });
    expect(fr.html).toContain('<html lang="en">');
    expect(fr.html).toContain("Continue with GitHub");
  });

  it("?lang= overrides Accept-Language and is remembered in __Host-gh_lang", async () => {
    const chosen = await page("/auth/signin?lang=ja", { "accept-language": "ko" });
    expect(chosen.html).toContain('<html lang="ja">');
    const cookie = chosen.res.headers.getSetCookie().find((c) => c.startsWith("__Host-gh_lang="));
    expect(cookie).toMatch(/^__Host-gh_lang=ja; Max-Age=31536000; Path=\/; Secure; HttpOnly; SameSite=Lax$/);
    const later = await page("/", { "accept-language": "ko", cookie: "__Host-gh_lang=ja" });
    expect(later.html).toContain('<html lang="ja">');
    const bogus = await page("/auth/signin?lang=xx", { "accept-language": "ko" });
    expect(bogus.html).toContain('<html lang="ko">');
    expect(bogus.res.headers.getSetCookie()).toEqual([]);
  });

  it("error pages and JSON errors are translated; the code is not", async () => {
    const html = await page("/auth/error?code=StateInvalid", { "accept-language": "ko" });
    expect(html.html).toContain("로그인 링크 만료");
    expect(html.html).toContain("<code>StateInvalid</code>");
    const res = await call("/api/orgs", { headers: { "accept-language": "ja" } });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: "unauthorized", code: "Unauthorized", message: MESSAGES.ja.errors.Unauthorized.explain });
  });

  it("the email pages, and the email itself, in the asking page's language", async () => {
    const form = await page("/auth/email", { "accept-language": "ko" });
    expect(form.html).toContain("이메일로 로그인");
    const address = freshAddress();
    const res = await postEmail({ email: address }, signinEnv("i18n_email"), { "accept-language": "ja" });
    expect(res.status).toBe(303);
    const [mail] = await mailTo(address);
    expect(mail?.subject).toMatch(/^サインインコード: \d{6}$/);
    expect(mail?.text).toContain("のサインインコード:");
    expect(mail?.html).toContain('<html lang="ja">');
  });
});
