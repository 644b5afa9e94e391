/** The DEK algorithms of Confluent's DEK Registry (shared/CSFLE-NOTES.md section 3). */
export type DekAlgorithm = 'AES128_GCM' | 'AES256_GCM' | 'AES256_SIV';
