/**
 * Decoding for a caller that knows which state it needs (resuming, forking): decode, then check the form.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import { checkStateShape } from "./checkStateShape.js";
import type { OptimizerError } from "../core/errors.js";
import { decodeState, type DecodedState } from "./decodeState.js";

/**
 * {@link decodeState}(bytes), then {@link checkStateShape}(expected, state): Right only when the checkpoint is
 * intact and holds a state of the same form as `expected` (e.g. `opt.init(params)` of the optimizer and
 * tree at hand): same kinds, record keys, `kind` tags, array lengths, leaf dtypes and shapes.
 * @example
 * const resumed = E.flatMap(opt.init(params), (fresh) => decodeStateFor(bytes, fresh));
 */
export const decodeStateFor = (bytes: Uint8Array, expected: unknown): E.Either<OptimizerError, DecodedState> =>
  pipe(
    decodeState(bytes),
    E.chainFirst(({ state }) => checkStateShape(expected, state)),
  );
