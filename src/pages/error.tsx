/** @jsxImportSource hono/jsx */
import type { ConfigProblem, ErrorCode } from "../error";
import { en, type Messages } from "../i18n/en";
import { Layout } from "./layout";

/** Plain-language explanation and what to try, per stable error code (English; other languages in `i18n/`). */
export const ERROR_TEXT: Record<ErrorCode, { title: string; explain: string; tryThis: string }> = en.errors;

/**
 * The error page: the title, a plain-language explanation, what to try, the
 * stable code and a way back (`backHref`, a same-origin path: e.g. the
 * sign-in page with the app's return address). Only the code (and, for
 * configuration errors, variable names, problem kinds and hints) reaches it:
 * never a message, stack or value.
 *
 * @example <ErrorPage code="StateInvalid" />
 */
export function ErrorPage(props: { code: ErrorCode; problems?: readonly ConfigProblem[]; backHref?: string; t?: Messages }) {
  const t = props.t ?? en;
  const text = t.errors[props.code];
  return (
    <Layout title={text.title} t={t}>
      <h1>{text.title}</h1>
      <p>{text.explain}</p>
      {props.problems && props.problems.length > 0 ? (
        <ul>
          {props.problems.map((p) => (
            <li>
              <code>{p.variable}</code>: {p.problem.replaceAll("_", " ")}
              {p.hint ? <> ({withCode(p.hint)})</> : ""}
            </li>
          ))}
        </ul>
      ) : null}
      <p>
        <strong>{t.error.whatToTry}</strong> {text.tryThis}
      </p>
      <p class="muted">
        {t.error.errorCode} <code>{props.code}</code>
      </p>
      <p>
        <a class="button" href={props.backHref?.startsWith("/") && !props.backHref.startsWith("//") ? props.backHref : "/auth/signin"}>
          {t.common.backToSignIn}
        </a>
      </p>
    </Layout>
  );
}

/** A hint's `backticked` parts as <code>, the rest as text (both escaped). */
function withCode(hint: string) {
  return hint.split("`").map((part, i) => (i % 2 === 1 ? <code>{part}</code> : part));
}
