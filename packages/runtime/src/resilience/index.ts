// @carotene/runtime/resilience: what Carotene's other packages use of this layer.
export { faultsFile, readFaultsFile, writeFaultsFile } from './faults-file.ts';
