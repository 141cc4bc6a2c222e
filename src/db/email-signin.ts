/**
 * The attempt counter of email sign-in codes (`email_code_attempts`). The
 * worker compares the code (constant time, routes/email.ts); a wrong guess
 * costs one statement here, the right one rides in the sign-in batch
 * (`db/signin.ts`, `codeAttempt`), which refuses past the limit. So every
 * attempt is counted atomically in Postgres, however many run at once.
 */
import { sql, type SQL } from "drizzle-orm";
import type { RequestContext } from "../lib/request-context";
import type { Database } from "./client";
import { failedSignInSubjectSql, signInFailureAuditSql } from "./signin-audit";

/** Attempts a code allows; the next one fails even with the right code. */
export const MAX_CODE_ATTEMPTS = 5;

/**
 * Counts a wrong guess and returns the attempts made so far, writing its
 * `signin.failure` audit row (`EmailCodeInvalid`, or `EmailCodeAttempts`
 * once they are used up) in the same statement. One round trip. The subject
 * is the user the address would sign in (its email identity's user, else
 * its verified owner), if any; the row never holds the code or the address.
 *
 * @example const attempts = await recordWrongCode(db, challengeHash, { emailNormalized, context: c.var.request });
 */
export async function recordWrongCode(
  db: Database,
  challengeHash: string,
  audit: { emailNormalized: string; context: RequestContext | undefined },
): Promise<number> {
  const who = { provider: "email", subject: audit.emailNormalized, emailNormalized: audit.emailNormalized, emailVerified: true, linkUserId: null };
  const code = sql`CASE WHEN attempts >= ${MAX_CODE_ATTEMPTS}::integer THEN 'EmailCodeAttempts' ELSE 'EmailCodeInvalid' END`;
  const result = await db.execute(sql`
    WITH counted AS (${upsertAttempt(challengeHash)} RETURNING attempts, ${failedSignInSubjectSql(who)} AS user_id),
    audit AS (${signInFailureAuditSql({ code, provider: "email", reason: null, context: audit.context }, sql`counted`)})
    SELECT attempts FROM counted`);
  return Number((result.rows[0] as { attempts?: unknown } | undefined)?.attempts ?? MAX_CODE_ATTEMPTS + 1);
}

/**
 * The sign-in batch's statement for the right code: counts it and refuses
 * `code_attempts` (SQLSTATE GH001, rolling the batch back) past the limit.
 *
 * @example runSignInBatch(db, { …, codeAttempt: codeAttemptStatement(challengeHash) });
 */
export function codeAttemptStatement(challengeHash: string): SQL {
  return sql`
    WITH counted AS (${upsertAttempt(challengeHash)} RETURNING attempts)
    SELECT CASE WHEN (SELECT attempts FROM counted) > ${MAX_CODE_ATTEMPTS}::integer THEN gatehouse_refuse('code_attempts') END AS refused`;
}

function upsertAttempt(challengeHash: string): SQL {
  return sql`INSERT INTO email_code_attempts (challenge_hash, attempts) VALUES (${challengeHash}, 1)
    ON CONFLICT (challenge_hash) DO UPDATE SET attempts = email_code_attempts.attempts + 1`;
}
