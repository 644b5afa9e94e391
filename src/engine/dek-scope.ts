/**
 * The DEK scope resolver: which DEK Registry subject a rule's DEK is registered under, decided once when
 * a plan is compiled. Confluent's clients use the schema's subject; join groups (several subjects that
 * share one DEK) plug in here.
 */
export type DekScopeResolver = (subject: string) => string;

/** The clients' rule: a DEK per schema subject. */
export const subjectScope: DekScopeResolver = (subject) => subject;
