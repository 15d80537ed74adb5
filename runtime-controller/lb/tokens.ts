/** The keys that sign tunnel tokens; which fields each token binds is core/token/conventions.ts. */
export { replyTokenFields, requestTokenFields } from '../../core/token/conventions.ts';

/** The 32-byte secrets of the receiving sides: a token is a MAC under the receiver's key. */
export interface TokenKeys {
  gateway(name: string): Uint8Array;
  host(name: string): Uint8Array;
}
