/**
 * The compiled job schema: one validator that reports every error and changes nothing, and one that
 * fills in defaults (run only on documents that already passed, on a copy).
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { JOB_SCHEMA } from './job-schema.js';

let checker: ValidateFunction | undefined;
let defaulter: ValidateFunction | undefined;

function compile(useDefaults: boolean): ValidateFunction {
  const ajv = new Ajv({ allErrors: !useDefaults, verbose: true, useDefaults, strictTypes: false });
  return ajv.compile(JOB_SCHEMA);
}

/** Every schema error of `data` (empty when valid). Does not modify `data`. */
export function schemaErrors(data: unknown): ErrorObject[] {
  checker ??= compile(false);
  return checker(data) ? [] : [...(checker.errors ?? [])];
}

/** A copy of a valid document with the schema's defaults filled in. */
export function withDefaults<T>(data: unknown): T {
  defaulter ??= compile(true);
  const copy = structuredClone(data);
  if (!defaulter(copy)) throw new Error('withDefaults called on a document that does not match the job schema');
  return copy as T;
}
