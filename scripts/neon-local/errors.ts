/** Thrown for requests Neon would reject before reaching Postgres (HTTP 400). */
export class BadRequestError extends Error {}
