/**
 * A job's join group (spec.target.joinGroup, issue #23) as keys/ and the engine take it: the JoinGroups
 * the job's DekManager shares DEKs across, and the DEK scope resolver of the WRITE side (a member
 * subject resolves to the group's scope, `join-group:<name>`). The read side keeps Confluent's rule (a
 * DEK per subject): sources are read under their own subjects, where any client put their DEKs.
 */
import { encryptingSteps, isKeyedStep, type Side } from '../engine/index.js';
import type { Job } from '../jobs/index.js';
import { dekRefOf, joinGroup, JoinGroups, NO_JOIN_GROUPS, writeEncryptionParams, type DekManager, type JoinGroup } from '../keys/index.js';
import type { RuleSet, SchemaInfo } from '../model/index.js';
import { RecryptError } from '../util/errors.js';

/** The job's join groups (none, or its one group). */
export function joinGroupsOf(job: Job): JoinGroups {
  const group = job.spec.target.joinGroup;
  return group === undefined ? NO_JOIN_GROUPS : new JoinGroups([joinGroup(group.name, group.subjects)]);
}

/** The DEK scope resolver of the job's WRITE side: group members to the group's scope, others to themselves. */
export type WriteScopeOf = (subject: string) => string;

export function writeScopeOf(groups: JoinGroups): WriteScopeOf {
  return groups.scopeOf;
}

/** What `plan` shows of a group: its name, members (sorted), the anchor where DEKs are created, the DEK scope. */
export interface JoinGroupView {
  readonly name: string;
  readonly subjects: readonly string[];
  readonly anchor: string;
  readonly scope: string;
}

export function joinGroupView(group: JoinGroup): JoinGroupView {
  return { name: group.name, subjects: [...group.members], anchor: group.anchor, scope: group.scope };
}

/**
 * Every encrypting step of a route's WRITE side must encrypt with its join group's DEK scope: writing a
 * DEK per subject instead would silently break the joins the group exists for. JOB_INVALID otherwise
 * (for instance an engine that does not take the write-side scope resolver).
 */
export function assertWritesWithGroup(job: Job, groups: JoinGroups, targetSubject: string, side: Side): void {
  const group = groups.ofSubject(targetSubject);
  if (group === undefined) return;
  for (const step of encryptingSteps(side)) {
    if (!isKeyedStep(step) || step.dek.scope === group.scope) continue;
    throw new RecryptError(
      'JOB_INVALID',
      `job ${job.metadata.name}: rule ${step.rule.name} on ${targetSubject} would encrypt with a DEK of subject scope ${step.dek.scope}, ` +
        `not with join group ${group.name}'s shared DEK; refusing to write rather than break the group`,
    );
  }
}

/**
 * Before a run: JOIN_GROUP_DIVERGED when a subject of the group a write step encrypts with already holds
 * DEK material the group cannot share, so the job stops at start rather than at its first record.
 * Registers nothing.
 */
export async function checkGroupDeksAtStart(keys: DekManager, side: Side): Promise<void> {
  for (const step of encryptingSteps(side)) await keys.checkJoinGroup(step.dek, step.params);
}

/**
 * The same check on the rules a job brings (spec.rules), before they are registered: a refused group
 * must leave the target subject as it was (a registered rule would let other clients create the very DEK
 * that diverges).
 */
export async function checkGroupRulesBeforeRegistering(
  keys: DekManager, groups: JoinGroups, targetSubject: string, ruleSet: RuleSet, schema: Pick<SchemaInfo, 'metadata'> | undefined,
): Promise<void> {
  const group = groups.ofSubject(targetSubject);
  if (group === undefined) return;
  for (const params of writeEncryptionParams(ruleSet, schema)) await keys.checkJoinGroup(dekRefOf(params, group.scope), params);
}
