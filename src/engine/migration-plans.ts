/**
 * Whether a writer schema's records migrate to the target (rules/migrations.ts), decided once per writer
 * schema when its plan is compiled: only when the target is another version of the writer's own subject
 * (the clients migrate within one subject) and the versions between carry JSONata migration rules; else
 * the plan converts between the two schemas as before (Avro/JSON schema resolution).
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

export function migrationResolver(registry: MigrationRegistry, target: LoadedSchema, targetSubject: string): MigrationResolver {
  return async (writerSubject, writer) => {
    if (writerSubject !== targetSubject || writer.id === target.id) return null;
    const targetVersion = target.info.version ?? (await registry.lookup(targetSubject, target.info, false, true)).version;
    const writerVersion = (await registry.lookup(targetSubject, writer.info, false, true).catch((err: unknown) => {
      if (isTransient(err)) throw err;
      return undefined;
    }))?.version;
    // A writer schema that is not a version of the subject: no migration, schema resolution as before.
    if (targetVersion === undefined || writerVersion === undefined || writerVersion === targetVersion) return null;
    const versions: SubjectVersion[] = [];
    for (let v = Math.min(writerVersion, targetVersion); v <= Math.max(writerVersion, targetVersion); v++) {
      const schema = await registry.getVersion(targetSubject, v, true).catch((err: unknown) => {
        if (isTransient(err)) throw err;
        return undefined; // missing: migrationPath refuses the path naming the version
      });
      if (schema !== undefined) versions.push({ version: v, ruleSet: schema.ruleSet });
    }
    const path = migrationPath(targetSubject, writerVersion, targetVersion, versions);
    if (!migratesValues(path)) return null;
    if (writer.schemaType === 'PROTOBUF' || target.schemaType === 'PROTOBUF') {
      throw new RecryptError('RULE_INVALID', `subject ${targetSubject}: recrypt does not run migration rules on Protobuf (v${writerVersion} -> v${targetVersion}); Confluent's JS client does not either`);
    }
    return path;
  };
}
