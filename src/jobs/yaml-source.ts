/**
 * YAML documents with their source positions. Parses a file into documents (a file may hold several,
 * separated by `---`), reports syntax errors with line:column, and finds the node of a field path so
 * that schema and semantic problems point at the line the user has to change.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseAllDocuments, visit, type Document, type Node, type Pair, type YAMLError } from 'yaml';
import { type PathSegment, type Problem } from './problem.js';

export interface Position {
  readonly line: number;
  readonly column: number;
}

export interface SourceDocument {
  readonly file: string;
  /** 0-based index of the document in its file. */
  readonly index: number;
  readonly doc: Document.Parsed;
  readonly lineCounter: LineCounter;
}

/** Where a path points: the value node, the key naming it, or the mapping that should contain it. */
export type Anchor = 'value' | 'key' | 'owner';

export interface ParsedFile {
  readonly documents: readonly SourceDocument[];
  readonly problems: readonly Problem[];
}

/** Parses YAML text. Syntax errors become problems; messages carry no source text. */
export function parseYamlFile(file: string, text: string): ParsedFile {
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const documents: SourceDocument[] = [];
  const problems: Problem[] = [];
  if (!Array.isArray(parsed)) return { documents, problems };
  parsed.forEach((doc, index) => {
    const src: SourceDocument = { file, index, doc, lineCounter };
    for (const err of doc.errors) problems.push(yamlProblem(src, errorOffset(src, text, err), err.code, err.message, 'error'));
    for (const warn of doc.warnings) problems.push(yamlProblem(src, warn.pos[0], warn.code, warn.message, 'warning'));
    documents.push(src);
  });
  return { documents, problems };
}

/** The yaml library's messages for a quote or flow collection that is never closed. */
const MISSING_CLOSER = /^Missing closing .?quote|end with a [\]}]/;

/**
 * Where to report a YAML error. The yaml library places a missing closing quote or bracket at the end
 * of the unterminated node, and that end includes the newline after it: the error would point at the
 * start of the next line (or past the end of the file), one line late. Point at the opening quote or
 * bracket instead: the line the user has to fix.
 */
function errorOffset(src: SourceDocument, text: string, err: YAMLError): number {
  const offset = err.pos[0];
  if (!MISSING_CLOSER.test(err.message)) return offset;
  let open: number | undefined;
  visit(src.doc, (_key, node) => {
    const range = (node as Node | null)?.range;
    if (range == null || range[1] !== offset || range[0] >= offset) return;
    const unterminated = isScalar(node) ? node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE' : (isMap(node) || isSeq(node)) && node.flow === true;
    // The innermost such node: nested unclosed collections end at the same offset.
    if (unterminated && (open === undefined || range[0] > open)) open = range[0];
  });
  if (open !== undefined) return open;
  // No such node: the end of the last content before the error (where the closer is missing).
  let end = Math.min(offset, text.length);
  while (end > 0 && /\s/.test(text[end - 1]!)) end--;
  return end;
}

function yamlProblem(src: SourceDocument, offset: number, code: string, message: string, severity: Problem['severity']): Problem {
  const { line, column } = positionAt(src, offset);
  // The yaml library may append a code frame; keep only the first sentence (no source text).
  const text = (message.split(/ at line \d+|\n/)[0] ?? message).trim();
  return {
    code: 'JOB_INVALID',
    severity,
    file: src.file,
    document: src.index,
    line,
    column,
    path: '',
    message: `YAML ${severity === 'error' ? 'syntax error' : 'warning'} (${code}): ${text}`,
  };
}

export function positionAt(src: SourceDocument, offset: number): Position {
  const { line, col } = src.lineCounter.linePos(offset);
  return { line, column: col };
}

/** Start of the document's content (or of the document when it is empty). */
export function documentStart(src: SourceDocument): Position {
  const node = src.doc.contents as Node | null;
  return positionAt(src, node?.range?.[0] ?? src.doc.range[0]);
}

function deref(src: SourceDocument, node: unknown): unknown {
  return isAlias(node) ? node.resolve(src.doc) : node;
}

function pairFor(map: { items: Pair[] }, key: PathSegment): Pair | undefined {
  return map.items.find((p) => {
    const k: unknown = p.key;
    const v = isScalar(k) ? k.value : k;
    return v !== null && typeof v !== 'object' && String(v) === String(key);
  });
}

function nodeStart(node: unknown): number | undefined {
  return (node as Node | null | undefined)?.range?.[0];
}

/**
 * The position of `path` in the document. `value`: the value node; `key`: the key naming the last
 * segment; `owner`: the place of the mapping at `path` (the key that holds it, or the mapping itself).
 * When the path does not exist (fully), the deepest existing node is used.
 */
export function locate(src: SourceDocument, path: readonly PathSegment[], anchor: Anchor = 'value'): Position {
  let node: unknown = deref(src, src.doc.contents);
  let keyNode: unknown = undefined;
  let best = nodeStart(node) ?? src.doc.range[0];
  for (const seg of path) {
    let nextKey: unknown = undefined;
    let next: unknown = undefined;
    if (isMap(node)) {
      const pair = pairFor(node, seg);
      if (pair === undefined) break;
      nextKey = pair.key;
      next = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      next = node.items[seg];
      if (next === undefined) break;
    } else {
      break;
    }
    keyNode = nextKey;
    node = deref(src, next);
    // A key without a value (`mode:`) has an empty null scalar after the colon: point at the key then.
    const empty = isScalar(next) && next.range != null && next.range[0] === next.range[1];
    const start = empty ? nodeStart(nextKey) : (nodeStart(next) ?? nodeStart(nextKey));
    if (start !== undefined) best = start;
  }
  if (anchor === 'key' || anchor === 'owner') {
    const k = nodeStart(keyNode);
    if (k !== undefined) return positionAt(src, k);
  }
  return positionAt(src, best);
}
