/**
 * Whether a writer schema's records migrate to the target (rules/migrations.ts), decided once per writer
 * schema when its plan is compiled: only when the target schema is another version of the writer's own
 * subject (the clients migrate within one subject) and the versions between carry JSONata migration
 * rules; else the plan converts between the two schemas as before (Avro/JSON schema resolution).
 *
 * As the clients do, the writer's version is looked up in the subject with deleted versions included, and
 * so is every version between. Protobuf is refused: Confluent's JS client never migrates Protobuf, and
 * Go's protojson route is not what recrypt's decoder yields.
 */
import type { RegisteredSchema, SchemaInfo } from '../registry/types.js';
import { migratesValues, migrationPath, type MigrationPath, type SubjectVersion } from '../rules/index.js';
import { RecryptError, isTransient } from '../util/errors.js';
import type { LoadedSchema } from './schema-store.js';

/** The registry calls the resolution needs (registry/'s SchemaRegistryApi has them). */
export interface MigrationRegistry {
  lookup(subject: string, schema: SchemaInfo, normalize?: boolean, deleted?: boolean): Promise<RegisteredSchema>;
  getVersion(subject: string, version: number, deleted?: boolean): Promise<RegisteredSchema>;
}

/** The migration path of a writer schema read under `writerSubject`, or null: the plan converts as before. */
export type MigrationResolver = (writerSubject: string, writer: LoadedSchema) => Promise<MigrationPath | null>;

/** A schema's version in `subject` (deleted ones included), or undefined when it is not one of its versions. */
async function versionIn(registry: MigrationRegistry, subject: string, schema: LoadedSchema): Promise<number | undefined> {
  const { schema: text, schemaType, references } = schema.info;
  // The schema alone (another subject's ruleSet and metadata are not part of what makes it a version here).
  const body: SchemaInfo = { schema: text, ...(schemaType ? { schemaType } : {}), ...(references ? { references } : {}) };
  return (await registry.lookup(subject, body, false, true).catch((err: unknown) => {
    if (isTransient(err)) throw err;
    return undefined;
  }))?.version;
}

/**
 * `acrossSubjects` (target.upgrade: latest): the target subject may be another subject (the output topic's)
 * whose schema is a version of the writer's subject; the path is then the writer's subject's, from the
 * writer's version to the version the target schema has there. Consumers of the output topic read its
 * records at that version, with no migration of their own.
 */
export function migrationResolver(registry: MigrationRegistry, target: LoadedSchema, targetSubject: string, acrossSubjects = false): MigrationResolver {
  return async (writerSubject, writer) => {
    if ((writerSubject !== targetSubject && !acrossSubjects) || writer.id === target.id) return null;
    const targetVersion = writerSubject === targetSubject ? target.info.version ?? await versionIn(registry, targetSubject, target) : await versionIn(registry, writerSubject, target);
    const writerVersion = await versionIn(registry, writerSubject, writer);
    // A writer schema that is not a version of the subject: no migration, schema resolution as before.
    if (targetVersion === undefined || writerVersion === undefined || writerVersion === targetVersion) return null;
    const versions: SubjectVersion[] = [];
    for (let v = Math.min(writerVersion, targetVersion); v <= Math.max(writerVersion, targetVersion); v++) {
      const schema = await registry.getVersion(writerSubject, v, true).catch((err: unknown) => {
        if (isTransient(err)) throw err;
        return undefined; // missing: migrationPath refuses the path naming the version
      });
      if (schema !== undefined) versions.push({ version: v, ruleSet: schema.ruleSet });
    }
    const path = migrationPath(writerSubject, writerVersion, targetVersion, versions);
    if (!migratesValues(path)) return null;
    if (writer.schemaType === 'PROTOBUF' || target.schemaType === 'PROTOBUF') {
      throw new RecryptError('RULE_INVALID', `subject ${writerSubject}: recrypt does not run migration rules on Protobuf (v${writerVersion} -> v${targetVersion}); Confluent's JS client does not either`);
    }
    return path;
  };
}
