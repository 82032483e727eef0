/**
 * The benchmark's rows, in table order. To add a row, write a Peer and list it here.
 */
import type { Peer } from "../peer.js";
import { copyFloor } from "./copy-floor.js";
import { handLoop } from "./hand-loop.js";
import { larchPeers } from "./larch.js";
import { larchWasmPeers } from "./larch-wasm.js";
import { optimizerFloors } from "./optimizer-floors.js";
import { optimizerPeers } from "./optimizers.js";
import { tfjsCpu, tfjsWasm } from "./tfjs.js";
import { torchSeed } from "./torch.js";
import { trafficFloors } from "./traffic-floor.js";

export const PEERS: readonly Peer[] = [copyFloor, ...trafficFloors, torchSeed, handLoop, ...larchPeers, ...larchWasmPeers, ...optimizerPeers, ...optimizerFloors, tfjsWasm, tfjsCpu];
