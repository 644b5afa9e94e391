/** jobs/: the recrypt/v1 job format: schema, loading with positions, validation. Starts no clients. */
export * from './job-types.js';
export { JOB_SCHEMA, JOB_API_VERSION, JOB_KIND, renderJobSchema } from './job-schema.js';
export { formatPath, isError, type PathSegment, type Problem, type ProblemCode } from './problem.js';
export { loadJobFiles, loadText, type LoadResult, type LoadedDocument, type LoadedJob } from './load.js';
export { checkDocuments, checkJob, checkJobAgainstTargetRules } from './semantic.js';
export { encryptsOnWrite, isWriteEncryptRule } from './rule-checks.js';
export { checkJoinGroupAgainstTarget, joinGroupMembershipMessage } from './join-group-checks.js';
export { isSecretKey, SECRET_REASON } from './secrets.js';
export { formatProblem, formatProblems } from './format.js';
export { validateJobFiles, type ValidationResult } from './validate.js';
export { dlqReplayGroupId, dlqReplayTransactionalId, jobGroupId, streamingTransactionalId, taskGroupId, taskTransactionalId } from './kafka-names.js';
export { dlqTopicFor, renderTemplate, sourceTopicsOf, targetKeySubjectFor, targetSubjectFor, targetTopicFor, TOPIC_PLACEHOLDER } from './templates.js';
export { checkKeySubjects } from './key-checks.js';
export type { SourceDocument, Position } from './yaml-source.js';
