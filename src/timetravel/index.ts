/**
 * Time travel through optimizer state: checkpoints (a safetensors-compatible, checksummed encoding of any
 * State), structure checks and per-leaf diffs; recordings of runs (`*.larch`), seek, replay and verify, fork.
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
export { openRecording, RECORDING_DEFAULTS, type Recorder, type RecordingOptions, type RecordingSummary, type StepExtras } from "./recorder.js";
export { readRecording, type BranchInfo, type ReadOptions, type Recording, type UnreadTail } from "./recordingReader.js";
export { ARITHMETIC, RECORDING_FORMAT, type RecordedLeaf, type RecordingHeader, type BranchHeader, type RunSettings } from "./recordingLayout.js";
export type { RecordedStep } from "./statsFrame.js";
export { seek, type RunPoint, type SeekOptions } from "./seek.js";
export { ROUNDING, verify, type BranchCheck, type Divergence, type VerifyReport } from "./verify.js";
export { fork, type ForkOptions } from "./fork.js";
export { rebuildOptimizer } from "./rebuildOptimizer.js";
export { diffSteps, type StepRef } from "./diffSteps.js";
