/**
 * Field tags: a field's inline tags plus the tags of every `metadata.tags` entry whose key, a wildcard
 * pattern, matches the field's full name (CSFLE-NOTES section 4).
 *
 * The wildcard language is the Confluent clients' (Java WildcardMatcher, JS wildcard-matcher.js), ported
 * rule for rule so that recrypt tags exactly the fields they tag:
 * - `?` one character other than `.`; `*` any run of characters other than `.`; `**` any run at all;
 *   `**.*` is first rewritten to `**` (so `a.**.*` also matches `a.b`).
 * - `. + { } ( ) | ^ $` are literal. A backslash emits an escaped backslash and then the next character
 *   raw, exactly as the clients do (so `a\*b` becomes /a\\*b/: "a", any number of backslashes, "b");
 *   a backslash as the last or next-to-last character is a literal backslash.
 * - Every other character, including `[` and `]`, passes into the regular expression unchanged, as in the
 *   clients: `[ab]` is a character class. A pattern that is not a valid expression matches nothing.
 * - A name matches when the first match of the expression in it is the whole name (JS client).
 */
import type { FieldInfo } from '../formats/types.js';

const SEPARATOR = '.';
const LITERAL = new Set(['.', '+', '{', '}', '(', ')', '|', '^', '$']);

/** Translates a wildcard pattern to regular expression source, the clients' way. Exported for tests. */
export function wildcardToRegexSource(pattern: string): string {
  const src = pattern.replaceAll(`**${SEPARATOR}*`, '**');
  let out = '';
  let i = 0;
  while (i < src.length) {
    const c = src[i] as string;
    i++;
    if (c === '*') {
      if (src[i] === '*') {
        out += '.*';
        i++;
      } else {
        out += `[^${SEPARATOR}]*`;
      }
    } else if (c === '?') {
      out += `[^${SEPARATOR}]`;
    } else if (LITERAL.has(c)) {
      out += `\\${c}`;
    } else if (c === '\\') {
      out += '\\';
      if (i + 1 < src.length) {
        out += `\\${src[i] as string}`;
        i++;
      } else {
        out += '\\';
      }
    } else {
      out += c;
    }
  }
  return out;
}

export type WildcardMatcher = (name: string) => boolean;

const NEVER: WildcardMatcher = () => false;
const compiled = new Map<string, WildcardMatcher>();
const MAX_COMPILED = 4096;

/** Compiles a wildcard pattern once (cached); the matcher is pure and synchronous. */
export function compileWildcard(pattern: string): WildcardMatcher {
  const hit = compiled.get(pattern);
  if (hit !== undefined) return hit;
  let matcher: WildcardMatcher;
  try {
    const re = new RegExp(wildcardToRegexSource(pattern));
    matcher = (name) => {
      const m = re.exec(name);
      return m !== null && m.index === 0 && m[0] === name;
    };
  } catch {
    matcher = NEVER;
  }
  if (compiled.size >= MAX_COMPILED) compiled.clear();
  compiled.set(pattern, matcher);
  return matcher;
}

/** True when `name` matches the wildcard `pattern`. */
export function wildcardMatch(name: string, pattern: string): boolean {
  return compileWildcard(pattern)(name);
}

/** A field's tags: inline tags plus tags of every metadata.tags key that matches its full name. */
export function fieldTags(field: FieldInfo, metadataTags: Readonly<Record<string, readonly string[]>> | undefined): Set<string> {
  const tags = new Set<string>(field.inlineTags);
  if (metadataTags !== undefined && metadataTags !== null) {
    for (const [pattern, values] of Object.entries(metadataTags)) {
      if (compileWildcard(pattern)(field.fullName)) {
        for (const t of values) tags.add(t);
      }
    }
  }
  return tags;
}

/**
 * Whether a rule with `ruleTags` applies to a field with `tags`: a rule without tags applies to every
 * (string or bytes) field, otherwise the sets must intersect.
 */
export function ruleAppliesToTags(ruleTags: readonly string[] | undefined, tags: ReadonlySet<string>): boolean {
  if (ruleTags === undefined || ruleTags.length === 0) return true;
  return ruleTags.some((t) => tags.has(t));
}
