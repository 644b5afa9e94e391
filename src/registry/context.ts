/**
 * Schema Registry contexts as Confluent's clients read them: a subject qualified as `:.ctx:subject`
 * lives in context `.ctx`, and the KEKs of its ENCRYPT rules are looked up in that context
 * (`GET /dek-registry/v1/keks/{name}?context=.ctx`, `POST /keks?context=.ctx`; encrypt_executor.go and
 * encrypt-executor.ts `contextFor`, July 2026). DEKs keep the qualified subject in their path.
 */

const DELIMITER = ':';
const PREFIX = ':.';

/**
 * The context of a qualified subject (`:.ctx:orders-value` -> `.ctx`), or undefined for an unqualified
 * subject or the default context written out (`:.:orders-value`).
 */
export function contextOfSubject(subject: string): string | undefined {
  if (!subject.startsWith(PREFIX)) return undefined;
  const end = subject.indexOf(DELIMITER, PREFIX.length);
  const context = end >= 0 ? subject.slice(1, end) : subject.slice(1);
  return context === '.' ? undefined : context;
}
