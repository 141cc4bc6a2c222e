/**
 * The retry schedule: after a failed attempt n (1-based) the next one is due
 * DELAYS[n-1] seconds later, plus up to 10 % jitter (never less, so the
 * schedule spans at least its sum: 25 h 53 min 30 s over 13 attempts). After
 * the last attempt fails the delivery is `dead` (replayable). Kept in the
 * database (`next_attempt_at`), not in Queues' delays (at most 12 h each).
 */

/** Seconds between attempts: 30 s, 1, 2, 5, 15, 30 min, 1, 2, 4, 6, 6, 6 h. */
export const RETRY_DELAYS_SECONDS = [30, 60, 120, 300, 900, 1800, 3600, 7200, 14400, 21600, 21600, 21600] as const;

/** Attempts in all: the first and one per delay. */
export const MAX_ATTEMPTS = RETRY_DELAYS_SECONDS.length + 1;

/**
 * When attempt `attempts + 1` is due after `attempts` failed ones, or `null`
 * when none is left (the delivery is dead).
 *
 * @example
 * nextAttemptDelaySeconds(1, 0); // 30
 * nextAttemptDelaySeconds(13, 0.5); // null
 */
export function nextAttemptDelaySeconds(attempts: number, random: number = Math.random()): number | null {
  const base = RETRY_DELAYS_SECONDS[attempts - 1];
  if (base === undefined) return null;
  return Math.round(base * (1 + 0.1 * Math.min(Math.max(random, 0), 1)));
}
