/** For `larch verify --optimizer`: a chain with a closure schedule, which larch cannot rebuild from its recorded spec. */
import { chain, scaleByLr, traceMomentum } from "larch";

export const decay = (t: number): number => 0.1 / (1 + t);

export default chain(traceMomentum({ momentum: 0.9 }), scaleByLr(decay));
