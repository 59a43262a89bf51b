// @carotene/runtime/sagas: what Carotene's other packages use of this layer.
export { listSagas, type SagaDetail, type SagaSummary, showSaga } from './saga-queries.ts';
