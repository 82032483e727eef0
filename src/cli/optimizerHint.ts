/**
 * The library says "pass the optimizer" when it cannot rebuild a recorded transformation; on the command line,
 * that is `--optimizer MODULE.js`.
 * @module
 */

/** The message, with how to pass the optimizer from the command line when it asks for it. */
export const withOptimizerHint = (message: string): string =>
  /pass the optimizer/.test(message)
    ? `${message}: give it with --optimizer MODULE.js, a module whose default export is the optimizer the run used (larch help verify)`
    : message;
