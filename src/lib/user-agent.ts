/**
 * A deliberately small User-Agent reader for the account page's "device"
 * column: browser family and operating system, nothing more. It is a label
 * for people, never an input to a security decision.
 */

export interface DeviceLabel {
  /** e.g. `Chrome`, `Firefox`, `Safari`, `Edge`; `null` when unknown. */
  browser: string | null;
  /** e.g. `macOS`, `Windows`, `Android`, `iOS`, `Linux`; `null` when unknown. */
  os: string | null;
}

/** Order matters: Edge and Opera also say "Chrome", Chrome also says "Safari". */
const BROWSERS: readonly [RegExp, string][] = [
  [/\bEdg(e|A|iOS)?\//, "Edge"],
  [/\b(OPR|Opera)\//, "Opera"],
  [/\bSamsungBrowser\//, "Samsung Internet"],
  [/\bFirefox\/|\bFxiOS\//, "Firefox"],
  [/\bHeadlessChrome\//, "Headless Chrome"],
  [/\bChrom(e|ium)\/|\bCriOS\//, "Chrome"],
  [/\bVersion\/[\d.]+.*\bSafari\//, "Safari"],
  [/\bcurl\//, "curl"],
];

const SYSTEMS: readonly [RegExp, string][] = [
  [/\b(iPhone|iPad|iPod)\b/, "iOS"],
  [/\bAndroid\b/, "Android"],
  [/\bCrOS\b/, "ChromeOS"],
  [/\bWindows\b/, "Windows"],
  [/\bMac OS X\b|\bMacintosh\b/, "macOS"],
  [/\bLinux\b/, "Linux"],
];

/** User agents longer than this are cut before matching (they are only labels). */
const MAX_LENGTH = 512;

/**
 * Reads a browser family and OS from a User-Agent header.
 *
 * @example
 * parseUserAgent("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15")
 * // { browser: "Safari", os: "macOS" }
 */
export function parseUserAgent(userAgent: string | null | undefined): DeviceLabel {
  if (!userAgent) return { browser: null, os: null };
  const ua = userAgent.slice(0, MAX_LENGTH);
  return {
    browser: BROWSERS.find(([re]) => re.test(ua))?.[1] ?? null,
    os: SYSTEMS.find(([re]) => re.test(ua))?.[1] ?? null,
  };
}

/**
 * One line for people: "Chrome on macOS", "Firefox", "Unknown device".
 *
 * @example
 * deviceLabel("Mozilla/5.0 (X11; Linux x86_64) … Firefox/128.0") // "Firefox on Linux"
 */
export function deviceLabel(userAgent: string | null | undefined): string {
  const { browser, os } = parseUserAgent(userAgent);
  if (browser && os) return `${browser} on ${os}`;
  return browser ?? os ?? "Unknown device";
}
