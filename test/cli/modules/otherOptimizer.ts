/** For `larch verify --optimizer`: a named export `optimizer`, another momentum than the recorded run's. */
import { chain, scaleByLr, traceMomentum } from "larch";

export const optimizer = chain(traceMomentum({ momentum: 0.5 }), scaleByLr((t: number) => 0.1 / (1 + t)));
