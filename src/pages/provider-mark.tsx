/** @jsxImportSource hono/jsx */
/**
 * A provider's mark: a coloured letter badge drawn with CSS. No logos are
 * downloaded (the CSP allows no external asset) and none are bundled.
 */

const COLOURS: Readonly<Record<string, { bg: string; fg: string; letter: string }>> = {
  github: { bg: "#24292f", fg: "#fff", letter: "G" },
  google: { bg: "#1a73e8", fg: "#fff", letter: "G" },
  facebook: { bg: "#1877f2", fg: "#fff", letter: "f" },
  naver: { bg: "#03c75a", fg: "#fff", letter: "N" },
  kakao: { bg: "#fee500", fg: "#191919", letter: "K" },
};

/** Neutral colour for OpenID Connect instances, which have no brand of their own here. */
const OIDC = { bg: "#5f6b7a", fg: "#fff" };

/**
 * The badge for a provider id (built-in) or an OIDC instance (first letter of its name).
 *
 * @example
 * <ProviderMark id="github" name="GitHub" />
 */
export function ProviderMark(props: { id: string; name: string }) {
  const known = Object.hasOwn(COLOURS, props.id) ? COLOURS[props.id] : undefined;
  const letter = known?.letter ?? (props.name.trim().charAt(0).toUpperCase() || "?");
  const colour = known ?? OIDC;
  return (
    <span class="badge" style={`background:${colour.bg};color:${colour.fg}`} aria-hidden="true">
      {letter}
    </span>
  );
}
