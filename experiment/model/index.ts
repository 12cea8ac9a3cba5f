/** The model layer's public surface: the only code importing @tensorflow/* lives in this folder. */
export { selectBackend } from "./backend.js";
export { BACKEND_NAMES, BackendInfo } from "./backend-info.js";
export { loadModel, MODEL_JSON, type SavedModel, saveModel, WEIGHTS_BIN } from "./save.js";
export { createLearner, DEFAULT_INFERENCE_BATCH, type LearnerOptions, TfLearner } from "./trainer.js";
