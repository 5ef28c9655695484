export { runDoctor, type DoctorOptions, type DoctorReport } from "./doctor";
export type { CheckResult, CheckStatus, FixOutcome } from "./checks";
export {
  runPrune,
  PruneError,
  type ManifestDeletion,
  type PruneOptions,
  type PrunePlan,
  type PruneReport,
  type TagInfo,
} from "./prune";
export { formatDoctorReport } from "./report";
