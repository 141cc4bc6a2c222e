/**
 * The suspicious-sign-in notice message: localized, text and HTML, values
 * escaped, the reasons named, and only the account page linked.
 */
import { describe, expect, it } from "vitest";
import { en } from "../../src/i18n/en";
import { ja } from "../../src/i18n/ja";
import { ko } from "../../src/i18n/ko";
import { signInNoticeMessage } from "../../src/mail/signin-notice";

const base = {
  to: "ada@example.com",
  host: "auth.example.com",
  accountUrl: "https://auth.example.com/account",
  at: new Date("2026-12-02T01:02:03Z"),
  method: "GitHub",
  device: "Firefox on Linux",
  country: "KR",
  flags: ["new_device", "new_country"],
};

describe("sign-in notice", () => {
  it.each([
    ["en", en, "New sign-in", "a country not seen before"],
    ["ko", ko, "새 로그인", "처음 보는 국가"],
    ["ja", ja, "新しいサインイン", "初めての国"],
  ] as const)("%s: subject, reasons, time and the account page in both parts", (_lang, t, subject, reason) => {
    const m = signInNoticeMessage({ ...base, t });
    expect(m.to).toBe("ada@example.com");
    expect(m.subject).toContain(subject);
    for (const part of [m.text, m.html]) {
      expect(part).toContain(reason);
      expect(part).toContain("2026-12-02 01:02");
      expect(part).toContain("KR");
      expect(part).toContain("https://auth.example.com/account");
    }
    expect(m.html).toContain(`lang="${t.lang}"`);
    // One link only: the account page.
    expect(m.html.match(/href=/g)).toHaveLength(1);
  });

  it("escapes values in the HTML part and leaves an unknown country out", () => {
    const m = signInNoticeMessage({ ...base, device: '<img src=x onerror="alert(1)">', country: null, flags: ["new_device"] });
    expect(m.html).not.toContain("<img");
    expect(m.html).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;");
    expect(m.text).not.toContain(en.notice.country);
    expect(m.text).not.toContain(en.notice.newCountry);
    expect(m.text).toContain(en.notice.newDevice);
  });
});
