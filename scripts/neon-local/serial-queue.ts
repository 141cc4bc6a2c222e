/**
 * Runs async jobs one after another. PGlite is a single connection, so a
 * batch's BEGIN … COMMIT must not interleave with other requests.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(job: () => Promise<T>): Promise<T> {
    const result = this.tail.then(job, job);
    // Keep the chain alive whether the job fails or not.
    this.tail = result.catch(() => undefined);
    return result;
  }
}
