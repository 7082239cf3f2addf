/** @probelab/sim-core's API: the simulator, its scenario and outcome contracts (README.md). */
export * from './outcome.js';
export * from './scenario.js';
export * from './cmdline.js';
export * from './profile.js';
export * from './board.js';
export * from './model.js';
export { InputError, readInputFile } from './errors.js';
export { DriverCore } from './driver-core.js';
export { linksFor } from './fw-devlink.js';
export { supplierNodes } from './fw-devlink-suppliers.js';
export { probeBehaviours, type ProbeBehaviour } from './behaviours.js';
export { timerFireTime, jiffiesAt } from './timer-wheel.js';
export { checkModuleActions, predict, type PredictInput, type Prediction } from './predict.js';
export { diffOutcomes, collapseKinds, type OutcomeDiff } from './diff.js';
export type { Hazard, HazardKind } from './hazards.js';
export { explainDevice } from './explain.js';
export { simulate, type SimulationInput } from './predict.js';
export {
  parseBoardScenario,
  loadBoardScenario,
  isBoardScenarioText,
  defaultBoardTiming,
  type BoardScenario,
  type BoardKernel,
  type BoardTimingParams,
} from './board-scenario.js';
export { boardTiming } from './board-timing.js';
export type { ProbeFault } from './probe-faults.js';
export { masterStates, outcomeMasterStates, type MasterState, type MasterSummary } from './master-states.js';
export {
  loadMatrixFile,
  parseMatrixFile,
  expandMatrix,
  type MatrixFile,
  type MatrixCell,
  type MatrixVariant,
  type MatrixAxes,
} from './matrix-file.js';
export { loadAnyScenario, type AnyScenario } from './scenario-file.js';
export { labCompatibles, labDma, labFaults, labProbeTimes, LAB_PROBE_ERROR, type LabProbeTime } from './lab-devices.js';
export type { LabDma } from './outcome.js';
export { transplant, type Transplant, type TransplantInput, type TransplantNode } from './transplant.js';
export { iommuMasters, judgedMasters, translationFailures, type PolicyFailure } from './translation-policy.js';
export { round6 } from './sim-time.js';
export { readContract, schemaPath, schemaValidator, schemaNames, type SchemaName } from './schema-check.js';
