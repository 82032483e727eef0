/**
 * The Left for a function of larch's whose arguments threw while it read them (a getter, a Proxy's trap, a
 * forged structure): exported functions typed for transformation authors catch what their typed bodies throw on
 * junk and return this instead. Not exported from larch.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { optimizerError, showValue, type OptimizerError, type OptimizerErrorKind } from "./errors.js";

/** `owner: its arguments cannot be read: reading them threw …`, as a Left of `kind` (InvalidOption by default). */
export const threw = (owner: string, e: unknown, kind: OptimizerErrorKind = "InvalidOption"): E.Either<OptimizerError, never> =>
  E.left(optimizerError(kind, `${owner}: its arguments cannot be read: reading them threw ${showValue(e)}`));
