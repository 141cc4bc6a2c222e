/**
 * The attempt counter of email sign-in codes (`email_code_attempts`). The
 * worker compares the code (constant time, routes/email.ts); a wrong guess
 * costs one statement here, the right one rides in the sign-in batch
 * (`db/signin.ts`, `codeAttempt`), which refuses past the limit. So every
 * attempt is counted atomically in Postgres, however many run at once.
 */
import { sql, type SQL } from "drizzle-orm";
import type { Database } from "./client";

/** Attempts a code allows; the next one fails even with the right code. */
export const MAX_CODE_ATTEMPTS = 5;

/**
 * Counts a wrong guess and returns the attempts made so far. One round trip.
 *
 * @example const attempts = await recordWrongCode(db, challengeHash);
 */
export async function recordWrongCode(db: Database, challengeHash: string): Promise<number> {
  const result = await db.execute(sql`${upsertAttempt(challengeHash)} RETURNING attempts`);
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
