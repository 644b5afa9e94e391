/**
 * A schema and its data contract as Confluent's REST API spells them (shared/CSFLE-NOTES.md sections 4
 * and 6): plain data, no behaviour. The bottom of the stack: crypto/, formats/ and rules/ take these from
 * here so none of them depends on registry/ (which re-exports them for its own callers).
 */

export type SchemaType = 'AVRO' | 'PROTOBUF' | 'JSON';

export type RuleKind = 'TRANSFORM' | 'CONDITION';
export type RuleMode = 'WRITE' | 'READ' | 'WRITEREAD' | 'UPGRADE' | 'DOWNGRADE' | 'UPDOWN';

export interface Rule {
  name: string;
  doc?: string;
  kind?: RuleKind;
  mode?: RuleMode;
  type?: string;
  tags?: string[];
  params?: Record<string, string>;
  expr?: string;
  onSuccess?: string;
  onFailure?: string;
  disabled?: boolean;
}

export interface RuleSet {
  migrationRules?: Rule[];
  domainRules?: Rule[];
  encodingRules?: Rule[];
  /**
   * Environment name, not a time: the official clients run the rules when it is unset, '', ALL or
   * CLIENT, and no rule at all otherwise.
   */
  enableAt?: string;
}

export interface SchemaMetadata {
  tags?: Record<string, string[]>;
  properties?: Record<string, string>;
  sensitive?: string[];
}

export interface SchemaReference {
  name: string;
  subject: string;
  version: number;
}

/** A schema as registered (request body of POST /subjects/{s}/versions). */
export interface SchemaInfo {
  schemaType?: SchemaType; // absent means AVRO
  schema: string;
  references?: SchemaReference[];
  metadata?: SchemaMetadata;
  ruleSet?: RuleSet;
}
