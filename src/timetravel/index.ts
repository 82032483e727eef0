/**
 * Time travel through optimizer state. Part 1: checkpoints (a safetensors-compatible, checksummed
 * encoding of any State), structure checks between states, and per-leaf diffs.
 * @module
 */
// Errors, Leaf and Dtype are the core's (src/core); State is the plain data a checkpoint holds.
export type { State } from "./stateValue.js";
export type { Json as CheckpointMeta } from "./stateValue.js";
export { encodeState } from "./encodeState.js";
export { decodeState, type DecodedState } from "./decodeState.js";
export { decodeStateFor } from "./decodeStateFor.js";
export { FORMAT_NAME, FORMAT_VERSION } from "./checkpointLayout.js";
export { checkStateShape } from "./checkStateShape.js";
export { diffStates, type LeafDiff, type ScalarDiff, type StateDiff } from "./diffStates.js";
