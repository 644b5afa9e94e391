/**
 * KEKs per Schema Registry context. A KEK is named within a context: `kek1` in the default context and
 * `kek1` in `.team` are two KEKs. KEK endpoints take the context as `?context=.team` (what Confluent's
 * clients send); DEK endpoints take it from their subject (`:.team:orders-value`, contextOfSubject), so a
 * DEK always binds to the KEK of its subject's context. The store keys a KEK of a non-default context as
 * `:.team:kek1` (KEK names cannot contain ':'); responses carry the plain name.
 */
import { contextOfSubject } from '../registry/index.js';
import { invalidKey } from './http.js';
import { checkName } from './dek-requests.js';

/** Store key of KEK `name` in `context` (absent, '' or '.': the default context). Checks the name. */
export function kekStoreName(name: string, context: string | null | undefined): string {
  checkName(name);
  if (context === undefined || context === null || context === '' || context === '.') return name;
  // Confluent's context names: a leading dot, then letters, digits, '_', '-' or '.'
  if (!/^\.[\p{L}\p{Nd}_.-]{1,255}$/u.test(context)) throw invalidKey('context');
  return `:${context}:${name}`;
}

/** Store key of the KEK a DEK of `subject` binds to. */
export function kekStoreNameForSubject(name: string, subject: string): string {
  return kekStoreName(name, contextOfSubject(subject));
}

/** The KEK name as responses show it (without its context). */
export function plainKekName(stored: string): string {
  return stored.startsWith(':.') ? stored.slice(stored.indexOf(':', 2) + 1) : stored;
}

/** Whether a stored KEK belongs to `context` (for listing). */
export function inKekContext(stored: string, context: string | null | undefined): boolean {
  const plain = plainKekName(stored);
  return stored === (context === undefined || context === null || context === '' || context === '.' ? plain : `:${context}:${plain}`);
}
