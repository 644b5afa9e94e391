/**
 * The anchor protocol of a join group (join-groups.ts): one DEK per version, registered with the same
 * wrapped key material, algorithm and version under every member subject. Race-safe across processes
 * with no lock service, because the DEK Registry refuses a second create of one (KEK, subject, version,
 * algorithm) with 409:
 *
 * 1. The DEK is created under the anchor (the first member, sorted) first; a 409 there means another
 *    writer won and its DEK is the group's (DekManager does this step, as for any subject).
 * 2. The anchor's encryptedKeyMaterial is then registered under every other member at the same version.
 *    A 409 on a member means it has that version already: its material must equal the anchor's (the
 *    wrapped bytes, else both unwrapped and compared in memory only), else JOIN_GROUP_DIVERGED.
 * 3. With expiry, a member whose latest version is newer than the one in use must hold the anchor's DEK
 *    of that version too (a member rotated alone by another client diverges).
 *
 * Every writer of the group runs step 2 before it encrypts a record, so no record is written under a DEK
 * that some member lacks. Never logs or throws key material: only names, subjects and versions.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Dek } from '../registry/types.js';
import { isRecryptError, RecryptError } from '../util/errors.js';
import type { JoinGroup } from './join-groups.js';

/** The registry calls the protocol needs, bound to one KEK and algorithm. */
export interface GroupDekAccess {
  readonly kekName: string;
  readonly algorithm: string;
  getDek(subject: string, version: number, deleted: boolean): Promise<Dek | null>;
  createDek(subject: string, version: number, encryptedKeyMaterial: string): Promise<Dek>;
  /** The DEK's plaintext key material (the caller wipes it). */
  unwrap(dek: Dek): Promise<Uint8Array>;
}

function wrappedOf(dek: Dek): string | undefined {
  const value = dek.encryptedKeyMaterial;
  return value === undefined || value === null || value === '' ? undefined : value;
}

function diverged(group: JoinGroup, access: GroupDekAccess, subject: string, version: number, why: string): RecryptError {
  return new RecryptError(
    'JOIN_GROUP_DIVERGED',
    `subject ${subject} holds DEK version ${version} of KEK ${access.kekName} (${access.algorithm}) ${why}: ` +
      `join group ${group.name} (anchor ${group.anchor}) would mix keys, so nothing is written (see docs/operations.md, JOIN_GROUP_DIVERGED)`,
  );
}

/** Same key material: the same wrapped bytes, or (re-wrapped) the same plaintext once both are unwrapped. */
async function sameMaterial(anchorDek: Dek, memberDek: Dek, access: GroupDekAccess): Promise<boolean> {
  if (memberDek.algorithm !== anchorDek.algorithm) return false;
  const a = wrappedOf(anchorDek);
  const b = wrappedOf(memberDek);
  if (a === undefined || b === undefined) return false;
  if (Buffer.from(a, 'base64').equals(Buffer.from(b, 'base64'))) return true;
  let pa: Uint8Array | undefined;
  let pb: Uint8Array | undefined;
  try {
    pa = await access.unwrap(anchorDek);
    pb = await access.unwrap(memberDek);
    return pa.length === pb.length && timingSafeEqual(pa, pb);
  } finally {
    pa?.fill(0);
    pb?.fill(0);
  }
}

/** Step 2: `anchorDek` (the anchor's DEK of one version) registered under every other member, or JOIN_GROUP_DIVERGED. */
export async function registerAtMembers(group: JoinGroup, anchorDek: Dek, access: GroupDekAccess): Promise<void> {
  const wrapped = wrappedOf(anchorDek);
  if (wrapped === undefined) {
    throw new RecryptError('CRYPTO_BAD_KEY', `DEK version ${anchorDek.version} of KEK ${access.kekName} for anchor subject ${group.anchor} has no encryptedKeyMaterial to share with join group ${group.name}`);
  }
  const version = anchorDek.version;
  await Promise.all(
    group.members.slice(1).map(async (subject) => {
      let existing = await access.getDek(subject, version, true);
      if (existing === null) {
        try {
          await access.createDek(subject, version, wrapped);
          return;
        } catch (err) {
          if (!(isRecryptError(err) && err.code === 'REGISTRY_CONFLICT')) throw err;
        }
        existing = await access.getDek(subject, version, true);
        if (existing === null) {
          throw new RecryptError('DEK_NOT_FOUND', `DEK version ${version} of KEK ${access.kekName} for subject ${subject} conflicted on create but cannot be fetched`);
        }
      }
      if (!(await sameMaterial(anchorDek, existing, access))) throw diverged(group, access, subject, version, 'with other key material than the anchor subject');
    }),
  );
}

/**
 * Step 3 (with expiry): no member has a newer version than `anchorDek` that the anchor does not share.
 * A newer version the anchor has too (another writer rotated the group meanwhile) is fine.
 */
export async function checkMembersLatest(group: JoinGroup, anchorDek: Dek, access: GroupDekAccess): Promise<void> {
  await Promise.all(
    group.members.slice(1).map(async (subject) => {
      const latest = await access.getDek(subject, -1, false);
      if (latest === null || latest.version <= anchorDek.version) return;
      const anchorsOwn = await access.getDek(group.anchor, latest.version, true);
      if (anchorsOwn === null || !(await sameMaterial(anchorsOwn, latest, access))) {
        throw diverged(group, access, subject, latest.version, 'that the anchor subject lacks or holds with other key material (rotated alone)');
      }
    }),
  );
}

/**
 * Before a run, read-only: the members against the anchor's DEK in use (its version 1, or with expiry
 * its latest). A member holding that version must hold the anchor's material; with no anchor DEK yet, a
 * member holding the version the first write will create (1), or with expiry any version, holds
 * material the group cannot share; with expiry no member is ahead of the anchor.
 */
export async function verifyGroupAtStart(group: JoinGroup, expiring: boolean, access: GroupDekAccess): Promise<void> {
  const anchorDek = await access.getDek(group.anchor, expiring ? -1 : 1, false);
  const version = anchorDek?.version ?? 1;
  await Promise.all(
    group.members.slice(1).map(async (subject) => {
      const existing = await access.getDek(subject, version, true);
      if (existing !== null && (anchorDek === null || !(await sameMaterial(anchorDek, existing, access)))) {
        throw diverged(group, access, subject, version, anchorDek === null ? 'while the anchor subject has none yet' : 'with other key material than the anchor subject');
      }
      if (expiring && anchorDek === null) {
        const latest = await access.getDek(subject, -1, false);
        if (latest !== null) throw diverged(group, access, subject, latest.version, 'while the anchor subject has none yet');
      }
    }),
  );
  if (expiring && anchorDek !== null) await checkMembersLatest(group, anchorDek, access);
}

/** For a read of DEK `version` of a group: the anchor's, else the first member that has it (deleted ones too). */
export async function findGroupDek(group: JoinGroup, version: number, access: GroupDekAccess): Promise<Dek | null> {
  for (const subject of group.members) {
    const dek = await access.getDek(subject, version, true);
    if (dek !== null) return dek;
  }
  return null;
}
