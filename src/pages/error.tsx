/** @jsxImportSource hono/jsx */
import type { ConfigProblem, ErrorCode } from "../error";
import { Layout } from "./layout";

/** Plain-language explanation and what to try, per stable error code. */
export const ERROR_TEXT: Record<ErrorCode, { title: string; explain: string; tryThis: string }> = {
  Configuration: { title: "Server configuration problem", explain: "This sign-in service is not fully configured.", tryThis: "If you run it, fix the variables listed above and redeploy. Otherwise tell its operator." },
  OAuthSignin: { title: "Could not start sign-in", explain: "The sign-in request could not be sent to the provider.", tryThis: "Go back and try again." },
  OAuthCallback: { title: "Sign-in failed", explain: "The provider's answer could not be verified.", tryThis: "Start the sign-in again from the beginning." },
  StateInvalid: { title: "Sign-in link expired", explain: "This sign-in attempt expired, was already used, or was started in another browser.", tryThis: "Start the sign-in again in this browser." },
  AccessDenied: { title: "Access denied", explain: "The provider did not grant access, or this account is disabled.", tryThis: "Try again and approve the request, or use another account." },
  AccountNotLinked: { title: "Account already exists", explain: "Another account already uses this email address.", tryThis: "Sign in with the method you used before, then link this one from your account page." },
  AccountAlreadyLinked: { title: "Account linked elsewhere", explain: "This provider account is already linked to another user.", tryThis: "Sign in with it to use that user, or unlink it there first." },
  ProviderUnavailable: { title: "Provider unavailable", explain: "The sign-in provider did not answer properly.", tryThis: "Wait a moment and try again, or use another provider." },
  DatabaseUnavailable: { title: "Service unavailable", explain: "The service's database could not be reached.", tryThis: "Wait a moment and try again." },
  SchemaBehind: { title: "Service being updated", explain: "The database schema is behind this version of the service.", tryThis: "If you run it, apply the pending migrations (npm run db:migrate). Otherwise try again later." },
  StorageUnavailable: { title: "Service unavailable", explain: "Sign-in could not be started because storage is unavailable.", tryThis: "Wait a moment and try again." },
  InvalidRequest: { title: "Invalid request", explain: "The request was malformed.", tryThis: "Go back and try again." },
  InvalidRedirect: { title: "Invalid return address", explain: "The address to return to after sign-in is not allowed.", tryThis: "Start from the application you want to use." },
  AuthorizationRequestInvalid: { title: "Invalid application request", explain: "The application that sent you here is unknown or disabled, or asked to return to an address it did not register.", tryThis: "Go back to the application and tell its developers; you were not sent back to it." },
  Unauthorized: { title: "Not signed in", explain: "You need to sign in first.", tryThis: "Sign in and try again." },
  Forbidden: { title: "Not allowed", explain: "You do not have permission for this.", tryThis: "Ask an administrator for access." },
  NotFound: { title: "Not found", explain: "There is nothing here.", tryThis: "Check the address." },
  SlugTaken: { title: "Name taken", explain: "Another organization already uses this slug.", tryThis: "Choose another slug." },
  AlreadyMember: { title: "Already a member", explain: "This person is already a member of the organization.", tryThis: "Change their role instead." },
  LastOwner: { title: "Last owner", explain: "An organization must keep at least one owner.", tryThis: "Make someone else an owner first." },
  PersonalOrganization: { title: "Personal organization", explain: "A personal organization has exactly one member, its owner.", tryThis: "Create a shared organization instead." },
  LastSignInMethod: { title: "Last sign-in method", explain: "This is the only way you can sign in, so it cannot be removed.", tryThis: "Link another sign-in method first, then remove this one." },
  MethodNotAllowed: { title: "Not allowed", explain: "This address does not accept that kind of request.", tryThis: "Go back and use the page's buttons." },
  UnsupportedMediaType: { title: "Unsupported request", explain: "The request body has the wrong type.", tryThis: "Send application/json." },
  HeaderTooLarge: { title: "Too many cookies", explain: "Your browser sent more cookies for this site than the service accepts.", tryThis: "Clear the cookies of this site (and of its parent domain) in your browser, then try again." },
  EmailInvalid: { title: "Address not usable", explain: "This email address cannot receive sign-in codes (only plain ASCII addresses are accepted).", tryThis: "Check the address and try again." },
  EmailCodeInvalid: { title: "Wrong code", explain: "The code you entered is not the one we sent.", tryThis: "Go back and enter the six digits from the latest email." },
  EmailCodeExpired: { title: "Code expired", explain: "This code expired, was already used, or a newer one replaced it.", tryThis: "Ask for a new code." },
  EmailCodeAttempts: { title: "Too many attempts", explain: "The code was entered wrong too many times and no longer works.", tryThis: "Ask for a new code." },
  EmailOtherBrowser: { title: "Other browser", explain: "This sign-in link works only in the browser where you asked for the code.", tryThis: "Open it there, or type the code into that browser." },
  MailUnavailable: { title: "Email not sent", explain: "The sign-in email could not be sent.", tryThis: "Wait a moment and try again, or use another way to sign in." },
  RateLimited: { title: "Too many attempts", explain: "There were too many requests from your network.", tryThis: "Wait a minute and try again." },
  Internal: { title: "Something went wrong", explain: "An unexpected error happened on our side.", tryThis: "Try again. If it keeps happening, tell the operator." },
};

/**
 * The error page: the title, a plain-language explanation, what to try, the
 * stable code and a way back (`backHref`, a same-origin path: e.g. the
 * sign-in page with the app's return address). Only the code (and, for
 * configuration errors, variable names, problem kinds and hints) reaches it:
 * never a message, stack or value.
 *
 * @example <ErrorPage code="StateInvalid" />
 */
export function ErrorPage(props: { code: ErrorCode; problems?: readonly ConfigProblem[]; backHref?: string }) {
  const text = ERROR_TEXT[props.code];
  return (
    <Layout title={text.title}>
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
        <strong>What to try:</strong> {text.tryThis}
      </p>
      <p class="muted">
        Error code: <code>{props.code}</code>
      </p>
      <p>
        <a class="button" href={props.backHref?.startsWith("/") && !props.backHref.startsWith("//") ? props.backHref : "/auth/signin"}>
          Back to sign-in
        </a>
      </p>
    </Layout>
  );
}

/** A hint's `backticked` parts as <code>, the rest as text (both escaped). */
function withCode(hint: string) {
  return hint.split("`").map((part, i) => (i % 2 === 1 ? <code>{part}</code> : part));
}
