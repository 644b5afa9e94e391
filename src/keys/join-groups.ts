/**
 * Join groups (issue #23): several DEK Registry subjects that share one DEK per KEK and algorithm, so
 * equal plaintexts encrypt to equal AES256_SIV ciphertexts across topics while every Confluent client
 * still finds the DEK under its own subject.
 *
 * A group is named by its DEK scope, `join-group:<name>`: plans resolve each member subject to it (the
 * scope resolver below), and DekManager recognises the scope and registers one DEK under every member.
 * The members are kept sorted (UTF-16 code units, the same in every process): the first one is the
 * anchor, where a DEK is created first (see group-deks.ts for the protocol).
 */
import { RecryptError } from '../util/errors.js';

export const JOIN_GROUP_SCOPE_PREFIX = 'join-group:';

export interface JoinGroup {
  readonly name: string;
  /** The DEK scope plans resolve every member subject to. */
  readonly scope: string;
  /** Sorted, distinct, at least one; `members[0]` is the anchor. */
  readonly members: readonly string[];
  readonly anchor: string;
}

/** The DEK scope of the group named `name`. */
export function joinGroupScope(name: string): string {
  return `${JOIN_GROUP_SCOPE_PREFIX}${name}`;
}

/** A group over `subjects` (any order): sorted, its anchor first. Empty or repeated subjects are a caller's error. */
export function joinGroup(name: string, subjects: readonly string[]): JoinGroup {
  if (name === '') throw new RecryptError('CONFIG_INVALID', 'a join group needs a name');
  if (subjects.length === 0 || subjects.some((s) => s === '')) {
    throw new RecryptError('CONFIG_INVALID', `join group ${name} needs at least one non-empty subject`);
  }
  const members = [...new Set(subjects)].sort();
  if (members.length !== subjects.length) throw new RecryptError('CONFIG_INVALID', `join group ${name} names a subject twice`);
  return Object.freeze({ name, scope: joinGroupScope(name), members: Object.freeze(members), anchor: members[0]! });
}

/** The join groups a process knows, by scope and by member subject. A subject belongs to one group at most. */
export class JoinGroups {
  readonly #byScope = new Map<string, JoinGroup>();
  readonly #bySubject = new Map<string, JoinGroup>();

  constructor(groups: readonly JoinGroup[] = []) {
    for (const group of groups) {
      const known = this.#byScope.get(group.scope);
      if (known !== undefined) {
        if (!sameMembers(known, group)) {
          throw new RecryptError('CONFIG_INVALID', `join group ${group.name} is defined twice with different subjects`);
        }
        continue;
      }
      for (const subject of group.members) {
        const other = this.#bySubject.get(subject);
        if (other !== undefined) {
          throw new RecryptError('CONFIG_INVALID', `subject ${subject} is in two join groups (${other.name}, ${group.name})`);
        }
        this.#bySubject.set(subject, group);
      }
      this.#byScope.set(group.scope, group);
    }
  }

  /** The group a DEK scope names, or undefined for a plain subject scope. */
  byScope(scope: string): JoinGroup | undefined {
    return this.#byScope.get(scope);
  }

  /** The group `subject` is a member of, if any. */
  ofSubject(subject: string): JoinGroup | undefined {
    return this.#bySubject.get(subject);
  }

  /** The scope resolver of these groups: a member subject resolves to its group's scope, others to themselves. */
  readonly scopeOf = (subject: string): string => this.#bySubject.get(subject)?.scope ?? subject;

  get size(): number {
    return this.#byScope.size;
  }
}

function sameMembers(a: JoinGroup, b: JoinGroup): boolean {
  return a.members.length === b.members.length && a.members.every((s, i) => s === b.members[i]);
}

export const NO_JOIN_GROUPS = new JoinGroups();
