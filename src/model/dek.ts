/** The DEK algorithms of Confluent's DEK Registry (shared/CSFLE-NOTES.md section 3). */
export type DekAlgorithm = 'AES128_GCM' | 'AES256_GCM' | 'AES256_SIV';

/**
 * Which DEK a rule encrypts with: the KEK that wraps it, the DEK Registry subject it is registered
 * under (its scope), and its algorithm. The scope is resolved once when a plan is compiled (today the
 * schema's subject); a version picks one DEK of the ref. Plain data, so it crosses a worker thread.
 */
export interface DekRef {
  readonly kekName: string;
  readonly scope: string;
  readonly algorithm: DekAlgorithm;
}

/** The ref of the DEK a rule's params name under `scope`. */
export function dekRefOf(params: { readonly kekName: string; readonly algorithm: DekAlgorithm }, scope: string): DekRef {
  return { kekName: params.kekName, scope, algorithm: params.algorithm };
}
