/**
 * Decodes a checkpoint written by encodeState.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { deepFreezeJson } from "./checkpointMeta.js";
import { KEY_META, KEY_STRUCTURE } from "./checkpointLayout.js";
import { optimizerError, type OptimizerError } from "../core/errors.js";
import { readCheckpointHeader } from "./readCheckpointHeader.js";
import { rebuildState } from "./rebuildState.js";
import type { Json, State } from "./stateValue.js";
import { readTensorTable } from "./tensorTable.js";

/** A decoded checkpoint: the state, and the caller's meta when one was written. */
export interface DecodedState {
  readonly state: State;
  readonly meta?: Json;
}

/** JSON.parse without a throw: the value, or undefined for text that is not JSON. */
const parseJson = (text: string): { readonly value: unknown } | undefined => {
  try {
    return { value: JSON.parse(text) };
  } catch {
    return undefined;
  }
};

/**
 * The state (and meta) of checkpoint `bytes`, bit for bit as encoded, or a Left (kind "DecodeError")
 * with a message saying what is wrong — truncation, trailing bytes, any flipped bit (checksum), a newer
 * format version, malformed JSON, tensor offsets out of range, overlapping or leaving gaps,
 * dtype/shape/byte-length disagreements, a structure that does not match the tensors. Never throws.
 * Records and arrays of the result are frozen; leaves are fresh contiguous row-major ndarrays whose views
 * (shape, strides) are frozen, as the core makes them.
 * @example
 * const back = decodeState(readFileSync("step100.safetensors")); // Either<OptimizerError, { state, meta }>
 */
export const decodeState = (bytes: Uint8Array): E.Either<OptimizerError, DecodedState> => {
  try {
    const container = readCheckpointHeader(bytes);
    if (E.isLeft(container)) return container;
    const { tensors, metadata, data } = container.right;
    const table = readTensorTable(tensors, data.length);
    if (E.isLeft(table)) return table;
    const structureText = metadata[KEY_STRUCTURE];
    const structure = structureText === undefined ? undefined : parseJson(structureText);
    if (structure === undefined)
      return E.left(optimizerError("DecodeError", `the checkpoint's "${KEY_STRUCTURE}" is missing or not JSON`));
    const state = rebuildState(structure.value, table.right, data);
    if (E.isLeft(state)) return state;
    const metaText = metadata[KEY_META];
    if (metaText === undefined) return E.right(Object.freeze({ state: state.right }));
    const meta = parseJson(metaText);
    if (meta === undefined) return E.left(optimizerError("DecodeError", `the checkpoint's "${KEY_META}" is not JSON`));
    return E.right(Object.freeze({ state: state.right, meta: deepFreezeJson(meta.value as Json) }));
  } catch (thrown) {
    // only exhaustion (e.g. no memory for a huge leaf) gets here; the public API still never throws
    return E.left(optimizerError("DecodeError", `the checkpoint could not be decoded: ${String(thrown)}`));
  }
};
