// A worker thread for thread-material.test.ts: it loads the engine thread's modules (thread-main.ts),
// rebuilds a cipher from the DEK proto it is given as the thread's keyring does, and answers whether
// crypto/ kept any material for it (it must not: the thread never switches retention on).
import { parentPort, workerData } from 'node:worker_threads';
import { dekMaterialForThread } from '../../../src/crypto/index.js';
import '../../../src/engine/threads/thread-main.js';
import { ThreadKeyring } from '../../../src/engine/threads/thread-keyring.js';
import { readString } from '../../../src/engine/threads/protocol.js';

const { proto } = workerData as { proto: Uint8Array };
const ref = { kekName: 'k', scope: 's', algorithm: 'AES256_GCM' } as const;
const key = readString(ref, 1);
const keyring = new ThreadKeyring();
keyring.apply({ kind: 'keys', reads: [{ key, algorithm: 'AES256_GCM', proto }], writes: [] });
const cipher = keyring.readCipher(ref, 1);
parentPort!.postMessage({ built: cipher !== undefined, kept: cipher !== undefined && dekMaterialForThread(cipher) !== undefined });
