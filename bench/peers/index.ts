/**
 * The benchmark's rows, in table order. To add a row (e.g. larch's own `lars()`), write a Peer and list it here.
 */
import type { Peer } from "../peer.js";
import { copyFloor } from "./copy-floor.js";
import { handLoop } from "./hand-loop.js";
import { tfjsCpu, tfjsWasm } from "./tfjs.js";
import { torchSeed } from "./torch.js";
import { wasmProbes } from "./wasm-probe.js";
import { larchWasmPeers } from "./larch-wasm.js";

export const PEERS: readonly Peer[] = [copyFloor, torchSeed, handLoop, tfjsWasm, tfjsCpu, ...wasmProbes, ...larchWasmPeers];
