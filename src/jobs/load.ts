/**
 * Reads job files: YAML (several documents per file allowed) with source positions, each document
 * checked against the job schema; problems point at file:line:column. A valid document becomes a Job
 * with the schema's defaults applied, deep-frozen. Semantic checks are semantic.ts; validate.ts runs both.
 */
import { readFile } from 'node:fs/promises';
import { isScalar } from 'yaml';
import { deepFreeze } from './deep-freeze.js';
import type { Job } from './job-types.js';
import type { Problem } from './problem.js';
import { schemaProblems } from './schema-errors.js';
import { schemaErrors, withDefaults } from './schema-validator.js';
import { documentStart, parseYamlFile, type SourceDocument } from './yaml-source.js';

export interface LoadedDocument {
  readonly source: SourceDocument;
  /** The document as plain data; undefined when it has YAML errors. */
  readonly data: unknown;
  /** Present when the document matches the job schema: defaults applied, deep-frozen. */
  readonly job?: Job;
}

export interface LoadedJob {
  readonly job: Job;
  readonly source: SourceDocument;
}

export interface LoadResult {
  /** Every non-empty document of every file, in file and document order. */
  readonly documents: readonly LoadedDocument[];
  /** The documents that match the schema. */
  readonly jobs: readonly LoadedJob[];
  readonly problems: readonly Problem[];
}

function fileProblem(file: string, message: string): Problem {
  return { code: 'JOB_INVALID', severity: 'error', file, path: '', message };
}

/** Never throws for bad input: unreadable files and bad documents become problems. */
export async function loadJobFiles(paths: readonly string[]): Promise<LoadResult> {
  const documents: LoadedDocument[] = [];
  const problems: Problem[] = [];
  for (const file of paths) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
      problems.push(fileProblem(file, `cannot read the file (${code})`));
      continue;
    }
    const loaded = loadText(file, text);
    documents.push(...loaded.documents);
    problems.push(...loaded.problems);
  }
  const jobs = documents.flatMap((d) => (d.job === undefined ? [] : [{ job: d.job, source: d.source }]));
  return { documents, jobs, problems };
}

/** Loads the documents of one file's text (exported for tests and stdin). */
export function loadText(file: string, text: string): { documents: LoadedDocument[]; problems: Problem[] } {
  const parsed = parseYamlFile(file, text);
  const problems: Problem[] = [...parsed.problems];
  const documents: LoadedDocument[] = [];
  for (const source of parsed.documents) {
    const failed = source.doc.errors.length > 0;
    if (!failed && isEmpty(source.doc.contents)) continue; // an empty document (e.g. a trailing ---)
    documents.push(failed ? { source, data: undefined } : loadDocument(source, problems));
  }
  if (documents.length === 0 && problems.length === 0) problems.push({ ...fileProblem(file, 'the file holds no job'), line: 1, column: 1 });
  return { documents, problems };
}

function isEmpty(contents: unknown): boolean {
  return contents === null || (isScalar(contents) && contents.value === null);
}

function loadDocument(source: SourceDocument, problems: Problem[]): LoadedDocument {
  let data: unknown;
  try {
    data = source.doc.toJS({ maxAliasCount: 100 });
  } catch {
    const pos = documentStart(source);
    problems.push({ ...fileProblem(source.file, 'the document cannot be read as data (too many or bad aliases)'), document: source.index, ...pos });
    return { source, data: undefined };
  }
  const errors = schemaErrors(data);
  if (errors.length > 0) {
    const name = (data as { metadata?: { name?: unknown } } | null)?.metadata?.name;
    problems.push(...schemaProblems(errors, source, data, typeof name === 'string' ? name : undefined));
    return { source, data };
  }
  return { source, data, job: deepFreeze(withDefaults<Job>(data)) };
}
